"""Browser routes of the person's rights (namespace "privacy", mounted at /privacy/)."""

from django.urls import path

from privacy import views

app_name = "privacy"

urlpatterns = [
    path("requests/", views.RequestListView.as_view(), name="request_list"),
    path("requests/new/", views.RequestCreateView.as_view(), name="request_create"),
    path("requests/<int:pk>/", views.RequestDetailView.as_view(), name="request_detail"),
    path("people/<int:pk>/export.json", views.SubjectAccessExportView.as_view(fmt="json"), name="person_export_json"),
    path("people/<int:pk>/export.pdf", views.SubjectAccessExportView.as_view(fmt="pdf"), name="person_export_pdf"),
]
