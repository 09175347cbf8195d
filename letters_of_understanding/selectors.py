"""Reads of Letters of Understanding, scoped by jointops.access (both parties' offices, both HQs): hidden and
missing letters look the same (404)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from jointops import access
from jointops.selectors import get_or_404
from letters_of_understanding import content as text
from letters_of_understanding.choices import OPERATIVE, AmendmentStatus, HandoverStatus, PlanStatus
from letters_of_understanding.models import Amendment, LetterOfUnderstanding, LouVersion, PhaseOutAction, Signature


def lou_qs_for(*, principal: Any, action: str = access.VIEW) -> QuerySet[LetterOfUnderstanding]:
    return (
        LetterOfUnderstanding.objects.visible_to(principal, action)
        .select_related("unhcr_office__organisation", "iom_office__organisation")
        .prefetch_related("categories")
    )


def lou_get_for_user(*, principal: Any, pk: Any, action: str = access.VIEW) -> LetterOfUnderstanding:
    return get_or_404(lou_qs_for(principal=principal, action=action), pk)


def lou_detail_for_user(*, principal: Any, pk: Any) -> LetterOfUnderstanding:
    """One letter with everything its page and its API detail show, in a fixed number of queries."""
    qs = (
        lou_qs_for(principal=principal)
        .select_related("phase_out_plan")
        .prefetch_related(
            "activities",
            "funding",
            "secondments",
            "reviews",
            "evaluations",
            "obligations",
            "handover_items",
            Prefetch("signatures", Signature.objects.select_related("office", "signed_by")),
            Prefetch("amendments", Amendment.objects.select_related("proposed_by", "decided_by")),
            Prefetch("versions", LouVersion.objects.order_by("number")),
            Prefetch("phase_out_plan__actions", PhaseOutAction.objects.order_by("due_on", "pk")),
        )
    )
    return get_or_404(qs, pk)


def lou_timeline(*, lou: LetterOfUnderstanding) -> list:
    return list(lou.events.select_related("user", "api_client"))


def lou_version_get(*, lou: LetterOfUnderstanding, number: Any) -> LouVersion:
    try:
        return lou.versions.get(number=int(number))
    except (TypeError, ValueError, LouVersion.DoesNotExist):
        raise Http404 from None


def lou_versions_compare(*, lou: LetterOfUnderstanding, left: Any, right: Any) -> dict[str, Any]:
    """Two versions of the text side by side (MOU §46: every version kept); an unknown number answers 404."""
    a = lou_version_get(lou=lou, number=left)
    b = lou_version_get(lou=lou, number=right)
    return {"left": a, "right": b, "rows": text.compare(a.content, b.content)}


def amendment_get(*, lou: LetterOfUnderstanding, pk: Any) -> Amendment:
    return get_or_404(lou.amendments.all(), pk)


def amendment_compare(*, amendment: Amendment) -> list[dict[str, Any]]:
    """The text in force beside the proposed text."""
    base = amendment.lou.versions.filter(number=amendment.base_text_version).first()
    return text.compare(base.content if base else text.content_of(amendment.lou), amendment.content)


def lou_current_content(*, lou: LetterOfUnderstanding) -> dict[str, Any]:
    return text.content_of(lou)


# --- Portfolio figures (reminders of the notifications app and the dashboards start here) --------------------


def ending_without_agreed_plan(qs: QuerySet, *, within_days: int = 90, today: dt.date | None = None) -> QuerySet:
    """Operative letters whose agreed end is within `within_days` without a phase-out plan agreed by both (MOU §39)."""
    today = today or timezone.localdate()
    return qs.filter(status__in=OPERATIVE, end_date__lte=today + dt.timedelta(days=within_days)).exclude(
        phase_out_plan__status=PlanStatus.AGREED
    )


def flagged_without_agreed_plan(qs: QuerySet) -> QuerySet:
    """MOU §39: a party expects resources to be insufficient, and no plan is agreed yet."""
    return qs.filter(status__in=OPERATIVE, resources_flagged_on__isnull=False).exclude(
        phase_out_plan__status=PlanStatus.AGREED
    )


def review_overdue(qs: QuerySet, *, today: dt.date | None = None) -> QuerySet:
    """MOU §47: the review is overdue."""
    return qs.filter(status__in=OPERATIVE, review_due_on__lt=today or timezone.localdate())


def notice_served(qs: QuerySet) -> QuerySet:
    return qs.filter(status__in=OPERATIVE, termination_notice_served_on__isnull=False)


def handovers_pending(qs: QuerySet) -> QuerySet:
    """Letters with an asset still listed for handover (MOU §40)."""
    return qs.filter(handover_items__status=HandoverStatus.LISTED).distinct()


def amendments_awaiting(qs: QuerySet) -> QuerySet:
    return qs.filter(amendments__status=AmendmentStatus.PROPOSED).distinct()


def country_filter(code: str) -> Q:
    """Letters naming `code` among their countries (stored comma-separated by django-countries)."""
    return (
        Q(countries=code)
        | Q(countries__startswith=f"{code},")
        | Q(countries__endswith=f",{code}")
        | Q(countries__contains=f",{code},")
    )
