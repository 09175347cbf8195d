"""Routes of the platform's API (organisations, offices, staff, partner systems, the principal)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from jointops.api import views

router = SimpleRouter()
router.register("organisations", views.OrganisationViewSet, basename="organisation")
router.register("offices", views.OfficeViewSet, basename="office")
router.register("users", views.UserViewSet, basename="user")
router.register("api-clients", views.ApiClientViewSet, basename="api-client")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
]
