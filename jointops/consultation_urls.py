"""Browser routes of consultations between the agencies (namespace "consultations", included at "consultations/")."""

from django.urls import path

from jointops import views_consultations as views

app_name = "consultations"

urlpatterns = [
    path("", views.ConsultationListView.as_view(), name="consultation_list"),
    path("new/", views.ConsultationCreateView.as_view(), name="consultation_create"),
    path("<int:pk>/", views.ConsultationDetailView.as_view(), name="consultation_detail"),
]
