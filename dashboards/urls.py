"""Browser routes of the dashboards (namespace "dashboards", mounted at /dashboard/). The API's are in api_urls.py."""

from django.urls import path

from dashboards import views

app_name = "dashboards"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="overview"),
    path("offices/<int:pk>/", views.DashboardView.as_view(), name="office"),
    path("export/<slug:key>.<slug:fmt>", views.DashboardExportView.as_view(), name="export"),
    path("offices/<int:pk>/export/<slug:key>.<slug:fmt>", views.DashboardExportView.as_view(), name="office_export"),
]
