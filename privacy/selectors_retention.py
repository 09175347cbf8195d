"""Reads of the retention periods and the record of anonymisations (issue 8), scoped by jointops.access.

Administrators and HQ focal points (MATRIX "retention") read both. Neither holds personal data (periods; record
types and ids), and a record type's period is the same for every office, so the scope is all or nothing.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from jointops import access
from privacy.models import Anonymisation, RetentionPolicy

LATEST_ANONYMISATIONS = 100


def retention_policy_qs_for(*, principal: Any) -> QuerySet[RetentionPolicy]:
    if not access.can(principal, access.VIEW, "retention"):
        return RetentionPolicy.objects.none()
    return RetentionPolicy.objects.order_by("record_type")


def anonymisation_qs_for(*, principal: Any) -> QuerySet[Anonymisation]:
    if not access.can(principal, access.VIEW, "retention"):
        return Anonymisation.objects.none()
    return Anonymisation.objects.select_related("by").order_by("-at", "-pk")


def latest_anonymisations_for(*, principal: Any, record_type: str = "") -> list[Anonymisation]:
    """The latest anonymisations (at most LATEST_ANONYMISATIONS), of one record type if given."""
    qs = anonymisation_qs_for(principal=principal)
    if record_type:
        qs = qs.filter(record_type=record_type)
    return list(qs[:LATEST_ANONYMISATIONS])
