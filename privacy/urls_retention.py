"""Routes of the retention page (issue 8). Included by the project URLconf under privacy/."""

from django.urls import path

from privacy import views_retention

app_name = "privacy_retention"

urlpatterns = [
    path("retention/", views_retention.RetentionView.as_view(), name="retention"),
]
