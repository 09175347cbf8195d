"""Reads of return cases, operations and agreements, scoped by jointops.access."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db.models import Exists, F, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from jointops import access
from jointops.selectors import get_or_404
from returns.choices import Stage
from returns.models import (
    AdditionalMeasure,
    CaseMeasure,
    CaseTransition,
    RepatriationOperation,
    ReturnAgreement,
    ReturnCase,
    ReturnCaseMember,
)


def return_case_qs_for(*, principal: Any, action: str = access.VIEW) -> QuerySet[ReturnCase]:
    """Cases of the offices the principal's role covers, with members (and their people) in one more query."""
    members = ReturnCaseMember.objects.select_related("beneficiary").order_by("-is_principal", "pk")
    return (
        ReturnCase.objects.visible_to(principal, action)
        .select_related("lead_office", "operation", "agreement")
        .prefetch_related(Prefetch("members", members))
    )


def return_case_get_for_user(*, principal: Any, pk: Any, action: str = access.VIEW) -> ReturnCase:
    return get_or_404(return_case_qs_for(principal=principal, action=action), pk)


# --- The API's reads: members as plain rows -------------------------------------------------------------------
# A page of 50 cases holds ~150 members; building a model instance for each member and each person (~35 columns)
# cost ~8 ms of a ~30 ms list request (bench/README.md). The API reads only the columns it shows, as plain rows
# (returns.api.serializers builds its output from them), in as few queries as the detail allows.


def return_case_rows_qs_for(*, principal: Any, action: str = access.VIEW) -> QuerySet[ReturnCase]:
    """The cases of return_case_qs_for (the same scoping), with `lead_office_code` (the code shown, rather than the
    office) and without their members: `with_member_rows` adds those to the cases actually shown, in one query."""
    return ReturnCase.objects.visible_to(principal, action).annotate(lead_office_code=F("lead_office__code"))


def return_case_rows_get_for_user(
    *, principal: Any, pk: Any, person_fields: Sequence[str], action: str = access.VIEW
) -> ReturnCase:
    """One case as the API's detail shows it: its `member_rows`, and `lead_office_requires_measures` — whether the
    lead office requires any additional measure (Letter: they "may be necessary"); for an office that requires none,
    case_measure_states has nothing to read and its query is saved."""
    measures = AdditionalMeasure.objects.filter(office=OuterRef("lead_office"), is_active=True)
    cases = return_case_rows_qs_for(principal=principal, action=action).annotate(
        lead_office_requires_measures=Exists(measures)
    )
    case = get_or_404(cases, pk)
    with_member_rows([case], person_fields=person_fields)
    return case


def with_member_rows(cases: Sequence[ReturnCase], *, person_fields: Sequence[str]) -> Sequence[ReturnCase]:
    """Set `member_rows` on each case: its members, principal applicant first then in the order added (as
    return_case_qs_for orders them), each a dict of `person` (the person's id), `is_principal`, `office` (the
    person's office: it decides which fields a caller may read, jointops.access.person_field_filter) and the
    person's `person_fields`. One query for all the cases, none for no case."""
    by_case: dict[int, list[dict[str, Any]]] = {case.pk: [] for case in cases}
    if by_case:
        rows = (
            ReturnCaseMember.objects.filter(case_id__in=list(by_case))
            .order_by("-is_principal", "pk")
            .values(
                "case_id",
                "is_principal",
                person=F("beneficiary_id"),
                office=F("beneficiary__office_id"),
                **{name: F(f"beneficiary__{name}") for name in person_fields},
            )
        )
        for row in rows:
            by_case[row.pop("case_id")].append(row)
    for case in cases:
        case.member_rows = by_case[case.pk]
    return cases


def return_case_timeline(*, case: ReturnCase) -> list[CaseTransition]:
    return list(case.transitions.select_related("user", "api_client"))


def return_case_timeline_rows(*, case: ReturnCase) -> list[dict[str, Any]]:
    """return_case_timeline as the API shows it, as plain rows (the API's reads, above): each move with `by`, the
    name of the user who made it, else of the partner system, else None (the system)."""
    return list(
        case.transitions.values(
            "transition",
            "from_stage",
            "to_stage",
            "reason",
            "details",
            "at",
            by=Coalesce("user__username", "api_client__name"),
        )
    )


def case_measure_states(*, case: ReturnCase) -> list[dict[str, Any]]:
    """case_measure_checklist as the API shows it, in one query: each measure the lead office requires (Letter), with
    the date and note of its record once done (None and "" before)."""
    record = CaseMeasure.objects.filter(case=case, measure=OuterRef("pk"))
    states = (
        AdditionalMeasure.objects.filter(office_id=case.lead_office_id, is_active=True)
        .order_by("pk")
        .annotate(done_on=Subquery(record.values("done_on")[:1]), note=Subquery(record.values("note")[:1]))
        .values("pk", "label", "done_on", "note")
    )
    return [
        {"measure": row["pk"], "label": row["label"], "done_on": row["done_on"], "note": row["note"] or ""}
        for row in states
    ]


def case_measure_checklist(*, case: ReturnCase) -> list[tuple[AdditionalMeasure, CaseMeasure | None]]:
    """Letter: the additional measures the lead office requires for persons of concern to UNHCR, each with its
    record once done."""
    done = {record.measure_id: record for record in case.measures.select_related("done_by")}
    measures = AdditionalMeasure.objects.filter(office_id=case.lead_office_id, is_active=True).order_by("pk")
    return [(measure, done.get(measure.pk)) for measure in measures]


def upcoming_departures_qs_for(*, principal: Any, days: int = 30) -> QuerySet[ReturnCase]:
    today = timezone.localdate()
    return (
        return_case_qs_for(principal=principal)
        .filter(
            stage=Stage.DEPARTURE_SCHEDULED, expected_departure_date__range=(today, today + dt.timedelta(days=days))
        )
        .order_by("expected_departure_date", "pk")
    )


def emergency_embarkations_qs_for(*, principal: Any) -> QuerySet[ReturnCase]:
    """Embarkations confirmed with an emergency justification before UNHCR had the list: flagged to HQ."""
    return return_case_qs_for(principal=principal).exclude(emergency_justification="")


def operation_qs_for(*, principal: Any, action: str = access.VIEW) -> QuerySet[RepatriationOperation]:
    qs = RepatriationOperation.objects.select_related("office")
    if action == access.VIEW:
        return qs if access.can(principal, access.VIEW, "repatriation_operation") else qs.none()
    return access.restrict(qs, principal, "repatriation_operation", action)


def operation_get_for_user(*, principal: Any, pk: Any, action: str = access.VIEW) -> RepatriationOperation:
    return get_or_404(operation_qs_for(principal=principal, action=action), pk)


def agreement_qs_for(*, principal: Any, action: str = access.VIEW) -> QuerySet[ReturnAgreement]:
    qs = ReturnAgreement.objects.select_related("office").prefetch_related("parties")
    if action == access.VIEW:
        return qs if access.can(principal, access.VIEW, "return_agreement") else qs.none()
    return access.restrict(qs, principal, "return_agreement", action)


def agreement_get_for_user(*, principal: Any, pk: Any, action: str = access.VIEW) -> ReturnAgreement:
    return get_or_404(agreement_qs_for(principal=principal, action=action), pk)
