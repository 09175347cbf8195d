"""Routes under /accounts/ beside Django's sign-in pages (jointops/web_urls.py): two-factor sign-in, the account's
security page, and the administrators' actions on a staff account."""

from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("two-factor/verify/", views.TwoFactorVerifyView.as_view(), name="two_factor_verify"),
    path("two-factor/setup/", views.TwoFactorSetupView.as_view(), name="two_factor_setup"),
    path("two-factor/setup/qr.svg", views.TwoFactorQrView.as_view(), name="two_factor_qr"),
    path("security/", views.SecurityView.as_view(), name="security"),
    path(
        "security/recovery-codes/",
        views.RecoveryCodesRegenerateView.as_view(),
        name="recovery_codes_regenerate",
    ),
    path("security/two-factor/disable/", views.TwoFactorDisableView.as_view(), name="two_factor_disable"),
    path("security/sign-out-everywhere/", views.SignOutEverywhereView.as_view(), name="sign_out_everywhere"),
    path("staff/<int:pk>/two-factor/reset/", views.StaffTwoFactorResetView.as_view(), name="staff_two_factor_reset"),
    path(
        "staff/<int:pk>/sign-out-everywhere/",
        views.StaffSignOutEverywhereView.as_view(),
        name="staff_sign_out_everywhere",
    ),
]
