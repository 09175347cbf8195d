"""Writes of the person's rights (issue 8): record a request, decide it, produce the subject access export.

Each service: keyword-only, one transaction, permission-checked through jointops.access (resource
"data_subject_request", scoped by the office holding the person's record), audited (history_records on the request;
the export's access-log row is written inside the same transaction as the export is built).

UNHCR's Policy on the Protection of Personal Data of Persons of Concern (2015, §6: rights of access, correction and
deletion, objection) and IOM's Data Protection Principles: each request is recorded with the date it was received,
how, and its outcome; refusals and partial grants give their reason.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from beneficiaries.models import Beneficiary
from jointops import access
from jointops.audit import acting_as, log_access
from jointops.exceptions import Conflict, StaleVersion, ValidationFailed
from jointops.services import acting_user, full_clean_or_fail, require
from privacy.choices import (
    CLOSED_STATUSES,
    AnonymisationReason,
    RequestChannel,
    RequestKind,
    RequestStatus,
)
from privacy.models import DataSubjectRequest
from privacy.subject_access import subject_access_data, subject_access_pdf

RESOURCE = "data_subject_request"
DETAILS_MAX = 4000
OUTCOME_MAX = 4000
# Issue 8: the purpose written to the access log for every subject access export.
EXPORT_PURPOSE = "subject access request"
EXPORT_FORMATS = {"json": "application/json", "pdf": "application/pdf"}

# UNHCR data protection policy §6 / IOM principles: a refusal, or a partial grant, gives its reason to the person.
OUTCOME_REQUIRED = frozenset({RequestStatus.REFUSED, RequestStatus.PARTLY_GRANTED})


def _text(value: Any, *, field: str, limit: int) -> str:
    text = (value or "").strip()
    if "\x00" in text:
        raise ValidationFailed(_("Remove the null character from this field."), field=field)
    if len(text) > limit:
        raise ValidationFailed(
            _("At most %(limit)d characters (it has %(count)d).") % {"limit": limit, "count": len(text)}, field=field
        )
    return text


@transaction.atomic
def request_record(
    *,
    actor: Any,
    person: Beneficiary,
    kind: str,
    received_on: dt.date,
    channel: str,
    details: str = "",
) -> DataSubjectRequest:
    """Record a request received from the person (or their representative). Handled by the office holding the
    record (the person's registering office)."""
    require(actor, access.ADD, RESOURCE, office=person.office_id)
    if kind not in RequestKind.values:
        raise ValidationFailed(_("Choose the kind of request."), field="kind")
    if channel not in RequestChannel.values:
        raise ValidationFailed(_("Choose how the request was received."), field="channel")
    if not isinstance(received_on, dt.date):
        raise ValidationFailed(_("Enter the date the request was received."), field="received_on")
    if received_on > timezone.localdate():
        raise ValidationFailed(_("The date received cannot be in the future."), field="received_on")
    details = _text(details, field="details", limit=DETAILS_MAX)
    person = Beneficiary.objects.select_for_update().get(pk=person.pk)
    if person.merged_into_id:
        raise ValidationFailed(
            _("This record was merged into record #%(id)s; record the request there.") % {"id": person.merged_into_id},
            field="person",
        )
    request = DataSubjectRequest(
        person=person,
        office_id=person.office_id,
        kind=kind,
        received_on=received_on,
        channel=channel,
        details=details,
        recorded_by=acting_user(actor),
    )
    full_clean_or_fail(request, exclude=["decided_by", "recorded_by"])
    with acting_as(actor):
        request.save()
    return request


@transaction.atomic
def request_decide(
    request: DataSubjectRequest,
    *,
    status: str,
    outcome: str,
    actor: Any,
    version: int | None,
    decided_on: dt.date | None = None,
) -> DataSubjectRequest:
    """Decide an open request: granted, partly granted, refused, or withdrawn by the person.

    - the outcome is required when refused or partly granted (the person is told why);
    - decided on no earlier than received, and not in the future; a decided request is never decided again;
    - `version` is the one the decider loaded: a decision over someone else's is refused (StaleVersion);
    - a granted deletion anonymises the person at once (privacy.anonymise: names, contacts, documents replaced,
      irreversible); a granted correction is made on the person's edit page, whose history keeps the old value.
    """
    require(actor, access.CHANGE, RESOURCE, office=request.office_id)
    locked = DataSubjectRequest.objects.select_for_update().select_related("person").get(pk=request.pk)
    if version is not None and locked.version != version:
        raise StaleVersion()
    if locked.status in CLOSED_STATUSES:
        raise Conflict(
            _("This request was already decided (%(status)s); it cannot be decided again.")
            % {"status": locked.get_status_display()},
            field="status",
        )
    if status not in CLOSED_STATUSES:
        raise ValidationFailed(_("Choose the decision."), field="status")
    outcome = _text(outcome, field="outcome", limit=OUTCOME_MAX)
    if status in OUTCOME_REQUIRED and not outcome:
        raise ValidationFailed(
            _("Say what was done and why the rest was refused: the person is told the reason."), field="outcome"
        )
    today = timezone.localdate()
    decided_on = decided_on or today
    if not isinstance(decided_on, dt.date):
        raise ValidationFailed(_("Enter the date of the decision."), field="decided_on")
    if decided_on < locked.received_on:
        raise ValidationFailed(
            _("The decision cannot be dated before the request was received (%(date)s).")
            % {"date": locked.received_on.isoformat()},
            field="decided_on",
        )
    if decided_on > today:
        raise ValidationFailed(_("The date of the decision cannot be in the future."), field="decided_on")
    locked.status = status
    locked.outcome = outcome
    locked.decided_on = decided_on
    locked.decided_by = acting_user(actor)
    locked.version += 1  # the row is locked (select_for_update)
    with acting_as(actor):
        locked.save()
    if locked.kind == RequestKind.DELETION and status == RequestStatus.GRANTED:
        # Issue 8: a granted deletion request anonymises the record (the retention engineer's privacy.anonymise).
        from privacy.anonymise import anonymise_person

        anonymise_person(locked.person, reason=AnonymisationReason.DELETION_REQUEST, request=locked, actor=actor)
    return locked


@transaction.atomic
def subject_access_export(*, actor: Any, person: Beneficiary, fmt: str, path: str = "") -> tuple[bytes, str, str]:
    """Everything held on the person, as JSON or PDF: (content, content type, file name).

    Requires "export" on data_subject_request at the person's office (office managers). The access-log row
    (action "export", resource "beneficiary", purpose "subject access request", the person's id) is written in the
    same transaction: no export without its row."""
    if fmt not in EXPORT_FORMATS:
        raise ValidationFailed(_("Choose JSON or PDF."), field="format")
    require(actor, "export", RESOURCE, office=person.office_id)
    log_access(
        actor=actor, action="export", resource="beneficiary", object_ids=[person.pk], purpose=EXPORT_PURPOSE, path=path
    )
    data = subject_access_data(person)
    if fmt == "json":
        content = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False).encode("utf-8")
    else:
        content = subject_access_pdf(data, office_code=person.office.code)
    stamp = timezone.now().strftime("%Y%m%d")
    return content, EXPORT_FORMATS[fmt], f"subject-access-{person.pk}-{stamp}.{fmt}"
