"""Browser routes of Letters of Understanding (namespace "letters_of_understanding").

Included at "letters/": /letters/ lists the letters, /letters/<id>/ is one letter with its text, signatures,
versions, amendments, reviews, phase-out plan and settlement; each act of the lifecycle has its page under
/letters/<id>/acts/<act>/.
"""

from django.urls import path

from letters_of_understanding import views

app_name = "letters_of_understanding"

urlpatterns = [
    path("", views.LouListView.as_view(), name="lou_list"),
    path("new/", views.LouCreateView.as_view(), name="lou_create"),
    path("<int:pk>/", views.LouDetailView.as_view(), name="lou_detail"),
    path("<int:pk>/edit/", views.LouUpdateView.as_view(), name="lou_update"),
    path("<int:pk>/acts/<slug:act>/", views.LouActView.as_view(), name="lou_act"),
    path("<int:pk>/pdf/", views.LouPdfView.as_view(), name="lou_pdf"),
    # The draft's activities (MOU §5), funding (§36) and secondments (§37).
    path("<int:pk>/text/<slug:collection>/add/", views.LouRowAddView.as_view(), name="lou_row_add"),
    path("<int:pk>/text/<slug:collection>/<int:row_pk>/edit/", views.LouRowUpdateView.as_view(), name="lou_row_update"),
    path(
        "<int:pk>/text/<slug:collection>/<int:row_pk>/remove/", views.LouRowRemoveView.as_view(), name="lou_row_remove"
    ),
    # Versions (MOU §46).
    path("<int:pk>/versions/compare/", views.LouVersionCompareView.as_view(), name="version_compare"),
    path("<int:pk>/versions/<int:number>/", views.LouVersionDetailView.as_view(), name="version_detail"),
    path("<int:pk>/versions/<int:number>/pdf/", views.LouPdfView.as_view(), name="version_pdf"),
    # Amendments (MOU §46).
    path("<int:pk>/amendments/new/", views.AmendmentCreateView.as_view(), name="amendment_create"),
    path("<int:pk>/amendments/<int:amendment_pk>/", views.AmendmentDetailView.as_view(), name="amendment_detail"),
    path(
        "<int:pk>/amendments/<int:amendment_pk>/<slug:decision>/",
        views.AmendmentDecideView.as_view(),
        name="amendment_decide",
    ),
    # Phase-out plan (MOU §39).
    path("<int:pk>/phase-out/", views.PlanEditView.as_view(), name="plan_edit"),
    path("<int:pk>/phase-out/actions/add/", views.PlanActionAddView.as_view(), name="plan_action_add"),
    path(
        "<int:pk>/phase-out/actions/<int:action_pk>/edit/",
        views.PlanActionUpdateView.as_view(),
        name="plan_action_update",
    ),
    path(
        "<int:pk>/phase-out/actions/<int:action_pk>/remove/",
        views.PlanActionRemoveView.as_view(),
        name="plan_action_remove",
    ),
    # Settlement (MOU §40).
    path("<int:pk>/obligations/add/", views.ObligationAddView.as_view(), name="obligation_add"),
    path("<int:pk>/obligations/<int:row_pk>/edit/", views.ObligationUpdateView.as_view(), name="obligation_update"),
    path("<int:pk>/handover/add/", views.HandoverItemAddView.as_view(), name="handover_add"),
    path("<int:pk>/handover/<int:row_pk>/edit/", views.HandoverItemUpdateView.as_view(), name="handover_update"),
    path("<int:pk>/handover/<int:row_pk>/decide/", views.HandoverDecideView.as_view(), name="handover_decide"),
]
