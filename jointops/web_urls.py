"""Browser routes of the platform: sign-in, home per role, offices, staff, partner systems."""

from django.contrib.auth import views as auth_views
from django.urls import path

from jointops import views

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
