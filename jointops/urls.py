from django.contrib import admin
from django.urls import include, path

from jointops.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("jointops.api_urls")),
    path("", include("beneficiaries.urls")),  # people/, households/, mandates/ (namespace "beneficiaries")
    path("returns/", include("returns.urls")),  # cases, operations, agreements (namespace "returns")
    path("letters/", include("letters_of_understanding.urls")),  # namespace "letters_of_understanding"
    path("notifications/", include("notifications.urls")),  # inbox, pre-departure lists, deliveries
    path("consultations/", include("jointops.consultation_urls")),  # namespace "consultations"
    path("dashboard/", include("dashboards.urls")),  # HQ / joint and office dashboards (namespace "dashboards")
    path("accounts/", include("accounts.urls")),  # two-factor sign-in, security page (namespace "accounts")
    path("privacy/", include("privacy.urls")),  # data subject requests, subject access export (namespace "privacy")
    path("privacy/", include("privacy.urls_retention")),  # retention periods, anonymisations ("privacy_retention")
    path("", include("jointops.web_urls")),
]
