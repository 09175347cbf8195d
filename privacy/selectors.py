"""Reads of the person's requests about their data (issue 8), scoped by jointops.access.

Resource "data_subject_request", scoped by the office handling the request (the office holding the person's record):
field staff and office managers of that office (and the offices above it), HQ focal points of its organisation.
Requests and people outside that scope answer 404, exactly like those that do not exist.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from beneficiaries.models import Beneficiary
from jointops import access
from jointops.selectors import get_or_404
from privacy.models import DataSubjectRequest

RESOURCE = "data_subject_request"


def request_qs_for(*, principal: Any, action: str = access.VIEW) -> QuerySet[DataSubjectRequest]:
    """The requests the principal may `action`, with what a list row shows fetched in the same query."""
    qs = DataSubjectRequest.objects.select_related("person", "office")
    return access.restrict(qs, principal, RESOURCE, action)


def request_get_for_user(*, principal: Any, pk: Any, action: str = access.VIEW) -> DataSubjectRequest:
    return get_or_404(request_qs_for(principal=principal, action=action), pk)


def person_get_for_requests(*, principal: Any, pk: Any) -> Beneficiary:
    """A person whose requests the principal may see (their record's office is in the principal's scope for
    data_subject_request), or 404. A record the other agency only shared with the principal's office is not theirs
    to handle: 404 too."""
    qs = access.restrict(
        Beneficiary.objects.select_related("office", "category"),
        principal,
        RESOURCE,
        access.VIEW,
        office_field="office",
    )
    return get_or_404(qs, pk)


def person_card(*, principal: Any, person: Beneficiary) -> dict | None:
    """What the person page's "Data protection" card shows, or None for those who may not see requests at the
    person's office."""
    if not access.can(principal, access.VIEW, RESOURCE, office=person.office_id):
        return None
    return {
        "requests": list(request_qs_for(principal=principal).filter(person=person).order_by("-received_on", "-pk")),
        "can_add": access.can(principal, access.ADD, RESOURCE, office=person.office_id) and not person.merged_into_id,
        "can_export": access.can(principal, "export", RESOURCE, office=person.office_id),
    }
