"""Browser routes of the platform: sign-in, home per role, offices, staff, partner systems, access log.

Sign-in and password pages keep Django's own un-namespaced names ("login", "logout", "password_change", ...),
which Django's auth views and settings (LOGIN_URL, LOGIN_REDIRECT_URL) expect, as does "home". The platform's
pages live in the "jointops" namespace (`jointops:office_detail`, ...), the names models.py reverses.
"""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from jointops import views
from jointops.forms import StaffPasswordResetForm

jointops_patterns = [
    path("offices/", views.OfficeListView.as_view(), name="office_list"),
    path("offices/new/", views.OfficeCreateView.as_view(), name="office_create"),
    path("offices/<int:pk>/", views.OfficeDetailView.as_view(), name="office_detail"),
    path("offices/<int:pk>/edit/", views.OfficeUpdateView.as_view(), name="office_update"),
    path("staff/", views.UserListView.as_view(), name="user_list"),
    path("staff/new/", views.UserCreateView.as_view(), name="user_create"),
    path("staff/<int:pk>/", views.UserDetailView.as_view(), name="user_detail"),
    path("staff/<int:pk>/activate/", views.UserSetActiveView.as_view(is_active=True), name="user_activate"),
    path("staff/<int:pk>/deactivate/", views.UserSetActiveView.as_view(is_active=False), name="user_deactivate"),
    path("staff/<int:pk>/roles/set/", views.MembershipSetView.as_view(), name="membership_set"),
    path(
        "staff/<int:pk>/roles/<int:membership_pk>/remove/",
        views.MembershipRemoveView.as_view(),
        name="membership_remove",
    ),
    path("api-clients/", views.ApiClientListView.as_view(), name="api_client_list"),
    path("api-clients/new/", views.ApiClientCreateView.as_view(), name="api_client_create"),
    path("api-clients/<int:pk>/", views.ApiClientDetailView.as_view(), name="api_client_detail"),
    path("api-clients/<int:pk>/revoke/", views.ApiClientRevokeView.as_view(), name="api_client_revoke"),
    path("access-log/", views.AccessLogListView.as_view(), name="access_log_list"),
]

auth_patterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),  # POST only (Django 5)
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(form_class=StaffPasswordResetForm),
        name="password_reset",
    ),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password/reset/complete/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("accounts/", include(auth_patterns)),
    # app_name "jointops" for these only: a module-level app_name would namespace the sign-in pages too.
    path("", include((jointops_patterns, "jointops"))),
]
