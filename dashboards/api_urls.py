"""Routes of the dashboards under /api/v1/ (listed in jointops.api_urls.APP_API_MODULES)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from dashboards import api

router = SimpleRouter()  # no viewsets: two read-only views

urlpatterns = [
    path("dashboard/", api.DashboardView.as_view(), name="api-dashboard"),
    path("dashboard/offices/<int:id>/", api.OfficeDashboardView.as_view(), name="api-dashboard-office"),
]
