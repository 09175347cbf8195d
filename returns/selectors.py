"""Reads of return cases, operations and agreements, scoped by jointops.access."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch, QuerySet
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


def return_case_timeline(*, case: ReturnCase) -> list[CaseTransition]:
    return list(case.transitions.select_related("user", "api_client"))


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
