"""Reads of people and households, scoped by jointops.access; reads of a person's record are access-logged."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from beneficiaries import matching
from beneficiaries.models import Beneficiary, BeneficiaryCategory, CategoryChange, Household, Mandate
from jointops import access
from jointops.audit import log_access

MAX_DUPLICATE_CANDIDATES = 10


def category_qs() -> QuerySet[BeneficiaryCategory]:
    return BeneficiaryCategory.objects.prefetch_related(
        Prefetch("mandates", Mandate.objects.select_related("organisation").order_by("organisation__code"))
    )


def mandate_qs() -> QuerySet[Mandate]:
    return Mandate.objects.select_related("category", "organisation")


def beneficiary_qs_for(*, principal: Any, action: str = access.VIEW) -> QuerySet[Beneficiary]:
    """People the principal may `action`, with what a list row shows fetched in the same query."""
    return Beneficiary.objects.visible_to(principal, action).select_related("category", "office")


def beneficiary_get_for_user(
    *, principal: Any, pk: Any, action: str = access.VIEW, purpose: str = "", path: str = "", log: bool = True
) -> Beneficiary:
    """One person, or 404 if missing or hidden. A read (action view) is written to the access log."""
    try:
        person = (
            beneficiary_qs_for(principal=principal, action=action)
            .select_related("household", "organisation", "merged_into", "created_by")
            .get(pk=pk)
        )
    except (Beneficiary.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    if log and action == access.VIEW:
        log_access(
            actor=principal, action="view", resource="beneficiary", object_ids=[person.pk], purpose=purpose, path=path
        )
    return person


def beneficiary_detail_related(*, person: Beneficiary) -> dict:
    """What the detail page shows beside the person: documents, category history, household, audit history."""
    household_members = []
    if person.household_id:
        household_members = list(
            Beneficiary.objects.filter(household_id=person.household_id, merged_into__isnull=True)
            .select_related("category")
            .order_by("pk")
        )
    return {
        "documents": list(person.documents.all()),
        "category_changes": list(
            CategoryChange.objects.filter(beneficiary=person).select_related("category", "recorded_by")
        ),
        "household_members": household_members,
        "history": list(person.history.select_related("history_user", "history_api_client")[:50]),
        "merged_records": list(person.merged_records.all()),
    }


def household_qs_for(*, principal: Any, action: str = access.VIEW) -> QuerySet[Household]:
    members = Beneficiary.objects.filter(merged_into__isnull=True).select_related("category").order_by("pk")
    return (
        Household.objects.visible_to(principal, action)
        .select_related("office", "head")
        .prefetch_related(Prefetch("members", members))
    )


def household_get_for_user(*, principal: Any, pk: Any, action: str = access.VIEW) -> Household:
    try:
        return household_qs_for(principal=principal, action=action).get(pk=pk)
    except (Household.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def duplicate_candidates(
    *,
    principal: Any,
    given_name: str,
    family_name: str,
    date_of_birth: dt.date | None = None,
    nationality: str = "",
    exclude_pk: int | None = None,
) -> list[tuple[Beneficiary, matching.Candidate]]:
    """Likely duplicates among the records the principal may see (need to know), best first.

    One indexed query on the blocking keys (names in any spelling or order, same family name with a close date
    of birth), then scoring of at most a few hundred rows.
    """
    name_key, family_key = matching.keys_for(given_name=given_name, family_name=family_name)
    if not name_key:
        return []
    given_key = matching.skeleton(given_name)
    blocks = Q(name_key=name_key)
    for key in {family_key, given_key} - {""}:  # swapped given and family names meet here too
        block = Q(family_key=key)
        if date_of_birth:
            window = dt.timedelta(days=3 * 366)
            block &= Q(date_of_birth__range=(date_of_birth - window, date_of_birth + window)) | Q(
                date_of_birth__isnull=True
            )
        if nationality:
            block &= Q(nationality=nationality) | Q(nationality="")
        blocks |= block
    rows = (
        Beneficiary.objects.visible_to(principal)
        .filter(blocks, merged_into__isnull=True)
        .exclude(pk=exclude_pk or 0)
        .values("pk", "given_name", "family_name", "date_of_birth", "nationality")[:500]
    )
    scored = []
    for row in rows:
        candidate = matching.score(
            given_name=given_name,
            family_name=family_name,
            date_of_birth=date_of_birth,
            nationality=nationality or "",
            other=row,
        )
        if candidate:
            scored.append(candidate)
    scored.sort(key=lambda c: -c.score)
    scored = scored[:MAX_DUPLICATE_CANDIDATES]
    people = Beneficiary.objects.select_related("category", "office").in_bulk([c.pk for c in scored])
    return [(people[c.pk], c) for c in scored if c.pk in people]
