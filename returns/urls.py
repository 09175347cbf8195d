"""Browser routes of return cases, repatriation operations and return agreements (namespace "returns").

Included at "returns/": /returns/ lists the cases, /returns/<id>/ is one case, /returns/operations/ and
/returns/agreements/ the operations (MOU §31) and agreements (Letter).
"""

from django.urls import path

from returns import views

app_name = "returns"

urlpatterns = [
    path("", views.CaseListView.as_view(), name="case_list"),
    path("upcoming/", views.UpcomingDeparturesView.as_view(), name="case_upcoming"),
    path("new/", views.CaseOpenView.as_view(), name="case_create"),
    path("<int:pk>/", views.CaseDetailView.as_view(), name="case_detail"),
    path("<int:pk>/edit/", views.CaseUpdateView.as_view(), name="case_update"),
    path("<int:pk>/moves/<slug:transition>/", views.CaseMoveView.as_view(), name="case_move"),
    path("<int:pk>/members/add/", views.CaseAddMemberView.as_view(), name="case_add_member"),
    path("<int:pk>/members/<int:member_pk>/remove/", views.CaseRemoveMemberView.as_view(), name="case_remove_member"),
    path("<int:pk>/measures/<int:measure_pk>/", views.CaseMeasureView.as_view(), name="case_measure"),
    path("<int:pk>/visits/new/", views.CaseVisitView.as_view(), name="case_visit"),
    path("operations/", views.OperationListView.as_view(), name="operation_list"),
    path("operations/new/", views.OperationCreateView.as_view(), name="operation_create"),
    path("operations/<int:pk>/", views.OperationDetailView.as_view(), name="operation_detail"),
    path("operations/<int:pk>/edit/", views.OperationUpdateView.as_view(), name="operation_update"),
    path("agreements/", views.AgreementListView.as_view(), name="agreement_list"),
    path("agreements/new/", views.AgreementCreateView.as_view(), name="agreement_create"),
    path("agreements/<int:pk>/", views.AgreementDetailView.as_view(), name="agreement_detail"),
    path("agreements/<int:pk>/edit/", views.AgreementUpdateView.as_view(), name="agreement_update"),
]
