"""Browser routes of people, households and the mandate matrix (namespace "beneficiaries").

The import and export pages (beneficiaries/import_urls.py) join the same namespace at the root of these routes.
"""

from django.urls import include, path

from beneficiaries import views

app_name = "beneficiaries"

urlpatterns = [
    path("", include("beneficiaries.import_urls")),
    path("people/", views.BeneficiaryListView.as_view(), name="beneficiary_list"),
    path("people/new/", views.BeneficiaryCreateView.as_view(), name="beneficiary_create"),
    path("people/merge/", views.BeneficiaryMergeView.as_view(), name="beneficiary_merge"),
    path("people/<int:pk>/", views.BeneficiaryDetailView.as_view(), name="beneficiary_detail"),
    path("people/<int:pk>/edit/", views.BeneficiaryUpdateView.as_view(), name="beneficiary_update"),
    path(
        "people/<int:pk>/category/", views.BeneficiaryChangeCategoryView.as_view(), name="beneficiary_change_category"
    ),
    path("people/<int:pk>/share/", views.BeneficiaryShareView.as_view(), name="beneficiary_share"),
    path("people/<int:pk>/documents/new/", views.DocumentAddView.as_view(), name="document_add"),
    path(
        "people/<int:pk>/documents/<int:document_pk>/remove/",
        views.DocumentRemoveView.as_view(),
        name="document_remove",
    ),
    path("households/", views.HouseholdListView.as_view(), name="household_list"),
    path("households/new/", views.HouseholdCreateView.as_view(), name="household_create"),
    path("households/<int:pk>/", views.HouseholdDetailView.as_view(), name="household_detail"),
    path("households/<int:pk>/members/add/", views.HouseholdAddMemberView.as_view(), name="household_add_member"),
    path(
        "households/<int:pk>/members/<int:person_pk>/remove/",
        views.HouseholdRemoveMemberView.as_view(),
        name="household_remove_member",
    ),
    path("mandates/", views.MandateMatrixView.as_view(), name="mandate_matrix"),
]
