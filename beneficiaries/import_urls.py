"""Browser routes of the import and export of people. beneficiaries/urls.py includes them at its root, so their
names live in the "beneficiaries" namespace (no app_name here)."""

from django.urls import path

from beneficiaries import views_import

urlpatterns = [
    path("people/import/", views_import.BeneficiaryImportView.as_view(), name="beneficiary_import"),
    path(
        "people/import/template/",
        views_import.BeneficiaryImportTemplateView.as_view(),
        name="beneficiary_import_template",
    ),
    path("people/imports/<int:pk>/", views_import.ImportJobDetailView.as_view(), name="import_job_detail"),
    path("people/imports/<int:pk>/report/", views_import.ImportJobReportView.as_view(), name="import_job_report"),
    path("people/export/", views_import.BeneficiaryExportView.as_view(), name="beneficiary_export"),
]
