"""Browser routes of the notifications app (namespace "notifications")."""

from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("lists/<int:pk>/", views.PreDepartureListDetailView.as_view(), name="list_detail"),
]
