"""Optimistic concurrency for the API (RELIABILITY.md "Concurrent edits"), shared by every app.

A record that people edit carries an integer `version`: its detail answers an `ETag` with it, and PUT/PATCH must send
it back in `If-Match` (missing: 428; malformed: 400; stale: 412 from the service's StaleVersion).
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from jointops import access
from jointops.api.serializers import ApiErrorSerializer
from jointops.exceptions import DomainError, ValidationFailed

_ETAG_RE = re.compile(r'"?([0-9]{1,10})"?')


class PreconditionRequired(DomainError):
    status_code = 428
    default_code = "precondition_required"
    default_message = _(
        "Send the If-Match header with the ETag you received when you read this record (GET it first), "
        "so that nobody's change is overwritten unseen."
    )


def etag_for(record: Any) -> str:
    return f'"{record.version}"'


def if_match_version(request) -> int:
    """The version the caller edited, from `If-Match: "<version>"`: 428 if absent, 400 if malformed."""
    raw = request.headers.get("If-Match", "").strip()
    if raw in ("", "*"):
        raise PreconditionRequired(field="If-Match")
    match = _ETAG_RE.fullmatch(raw)
    if match is None or raw.count('"') == 1:
        raise ValidationFailed(_('Send the ETag exactly as you received it, e.g. "3".'), field="If-Match")
    return int(match.group(1))


IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description='The ETag of the record as you read it, e.g. "3". Missing: 428. Someone saved since: 412.',
)
ETAG = OpenApiParameter(
    "ETag",
    str,
    OpenApiParameter.HEADER,
    response=[200, 201],
    description="The record's current version; send it back in If-Match to change the record.",
)
PRECONDITION_RESPONSES = {
    412: OpenApiResponse(
        ApiErrorSerializer, description="Stale If-Match: someone changed the record since you read it."
    ),
    428: OpenApiResponse(ApiErrorSerializer, description="If-Match is missing: read the record and send its ETag."),
}


def lookup_action(principal: Any, resource: str) -> str:
    """Which records a request may name: those the principal may view — or, for a partner system holding only the
    write scope, those it may change (a visible record it may not change is refused with 403 by the service)."""
    return access.VIEW if access.can(principal, access.VIEW, resource) else access.CHANGE
