"""Retention periods applied (issue 8: "Retention periods per record type after a case closes; a scheduled task
anonymises what is past it ... logged, and reversible by nobody"; UNHCR's Policy on the Protection of Personal Data
of Persons of Concern (2015) and IOM's Data Protection Principles: data kept no longer than its purpose needs).

One selector per record type picks what is past its period (`RetentionPolicy.days`, counted from the event the type
names); `apply_retention` anonymises it in batches and logs one `Anonymisation` row per record. A day is a calendar
day in TIME_ZONE: an event on day D is kept through day D + days and anonymised from day D + days + 1.

- person: from the last of their return cases closed or withdrawn (every case final); with no case, from the last
  change of the record. The person is anonymised (privacy/anonymise.py).
- return case: from its closing (or withdrawal). Its free text: travel details, place of return, emergency
  justification, reasons of its moves, measure notes, visit outcomes, concerns quoted in inbox notices.
- pre-departure list: from the entry's expected departure (the list's date without one). The names, UNHCR number
  and voluntariness concern copied onto the entry (and the concern's text in the IOM case owner's inbox).
- import file: from the import's end (or upload, if it never ended). The uploaded file is deleted from storage; the
  error and duplicate reports (they quote names) are emptied; the counts stay.
- delivery: from its delivery. The recipients, payload and last error of the e-mail or webhook are emptied.

Never anonymised: a person with a return case not closed, or with a data subject request still open (the request
is decided first: a deletion, correction or access request needs the record as it is). Idempotent: what was done is
in the log (or marked `anonymised_at`), and a second run finds nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator

from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone

from beneficiaries.models import Beneficiary, ImportJob
from notifications.choices import DeliveryStatus
from notifications.models import Delivery, PreDepartureEntry
from privacy import anonymise
from privacy.choices import AnonymisationReason, RecordType, RequestStatus
from privacy.models import Anonymisation, DataSubjectRequest, RetentionPolicy
from returns.choices import FINAL_STAGES
from returns.models import CaseTransition, ReturnCase, ReturnCaseMember

logger = logging.getLogger(__name__)

BATCH_SIZE = anonymise.BATCH_SIZE

# The order of a run: notes and copies first, then the people, then the files and messages.
ORDER = (
    RecordType.RETURN_CASE,
    RecordType.PRE_DEPARTURE_LIST,
    RecordType.PERSON,
    RecordType.IMPORT_FILE,
    RecordType.DELIVERY,
)


# --- Dates -----------------------------------------------------------------------------------------------------


def last_day_kept(today: dt.date, days: int) -> dt.date:
    """An event on this day or later is still within its period."""
    return today - dt.timedelta(days=days)


def cutoff(today: dt.date, days: int) -> dt.datetime:
    """The first instant still within the period: the start (local time) of `last_day_kept`."""
    return dt.datetime.combine(last_day_kept(today, days), dt.time.min, tzinfo=timezone.get_current_timezone())


def policies() -> dict[str, RetentionPolicy]:
    return {p.record_type: p for p in RetentionPolicy.objects.all()}


def _not_logged(record_type: str) -> Exists:
    return Exists(Anonymisation.objects.filter(record_type=record_type, object_id=OuterRef("pk")))


# --- Selectors: what is past its period ------------------------------------------------------------------------


def closed_cases_before(limit: dt.datetime) -> QuerySet[ReturnCase]:
    """Cases in a final stage (closed, withdrawn) whose final move came before `limit` (a case without its move
    recorded — loaded from elsewhere — counts from its last change)."""
    final_move = CaseTransition.objects.filter(case_id=OuterRef("pk"), to_stage__in=FINAL_STAGES)
    return ReturnCase.objects.filter(stage__in=FINAL_STAGES).filter(
        Exists(final_move.filter(at__lt=limit)) | (~Exists(final_move) & Q(updated_at__lt=limit))
    )


def return_cases_past(days: int, today: dt.date) -> QuerySet[ReturnCase]:
    return closed_cases_before(cutoff(today, days)).exclude(_not_logged(RecordType.RETURN_CASE))


def people_past(days: int, today: dt.date) -> QuerySet[Beneficiary]:
    """Survivors (not merged into another record; their merged records follow them) not anonymised yet, whose
    every case is final and the last closed before the period, or without a case and unchanged since before it;
    never one with an open data subject request (on the record or a record merged into it)."""
    limit = cutoff(today, days)
    memberships = ReturnCaseMember.objects.filter(beneficiary_id=OuterRef("pk"))
    still_needed = memberships.exclude(case__in=closed_cases_before(limit))  # open, or closed within the period
    open_request = DataSubjectRequest.objects.filter(status=RequestStatus.OPEN).filter(
        Q(person_id=OuterRef("pk")) | Q(person__merged_into_id=OuterRef("pk"))
    )
    return (
        Beneficiary.objects.filter(merged_into__isnull=True, anonymised_at__isnull=True)
        .filter(Exists(memberships) | Q(updated_at__lt=limit))
        .exclude(Exists(still_needed))
        .exclude(Exists(open_request))
    )


def pre_departure_entries_past(days: int, today: dt.date) -> QuerySet[PreDepartureEntry]:
    day = last_day_kept(today, days)
    return PreDepartureEntry.objects.filter(
        Q(expected_departure_date__lt=day)
        | Q(expected_departure_date__isnull=True, list__created_at__lt=cutoff(today, days))
    ).exclude(_not_logged(RecordType.PRE_DEPARTURE_LIST))


def import_jobs_past(days: int, today: dt.date) -> QuerySet[ImportJob]:
    return (
        ImportJob.objects.alias(ended=Coalesce("finished_at", "created_at"))
        .filter(ended__lt=cutoff(today, days))
        .exclude(_not_logged(RecordType.IMPORT_FILE))
    )


def deliveries_past(days: int, today: dt.date) -> QuerySet[Delivery]:
    return Delivery.objects.filter(status=DeliveryStatus.DONE, done_at__lt=cutoff(today, days)).exclude(
        _not_logged(RecordType.DELIVERY)
    )


SELECTORS = {
    RecordType.PERSON: people_past,
    RecordType.RETURN_CASE: return_cases_past,
    RecordType.PRE_DEPARTURE_LIST: pre_departure_entries_past,
    RecordType.IMPORT_FILE: import_jobs_past,
    RecordType.DELIVERY: deliveries_past,
}


# --- Applying --------------------------------------------------------------------------------------------------


def _batches(qs: QuerySet) -> Iterator[list[int]]:
    ids = list(qs.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH_SIZE):
        yield ids[start : start + BATCH_SIZE]


def _apply_people(qs: QuerySet, days: int) -> int:
    count = 0
    for batch in _batches(qs):
        with transaction.atomic():
            # Locked, then checked again: a case opened or a request received since the selection protects them.
            list(Beneficiary.objects.select_for_update().filter(pk__in=batch).values_list("pk", flat=True))
            still = list(qs.filter(pk__in=batch).values_list("pk", flat=True))
            done = anonymise.anonymise_people(
                anonymise.with_merged(still), reason=AnonymisationReason.RETENTION, retention_days=days
            )
        count += len(done)
    return count


def _apply_return_cases(qs: QuerySet, days: int) -> int:
    count = 0
    for batch in _batches(qs):
        with transaction.atomic():
            anonymise.clear_case_notes(batch)
            count += _log(RecordType.RETURN_CASE, batch, days)
    return count


def _apply_pre_departure_entries(qs: QuerySet, days: int) -> int:
    count = 0
    for batch in _batches(qs):
        with transaction.atomic():
            PreDepartureEntry.objects.filter(pk__in=batch).update(
                given_name=anonymise.ANONYMISED,
                family_name=Concat(Value("#"), Cast("pk", CharField())),
                unhcr_registration_number="",
                concern="",
            )
            PreDepartureEntry.history.model.objects.filter(id__in=batch).delete()
            # The concern also reached the IOM case owner's inbox: its text goes with the entry's.
            cases = set(PreDepartureEntry.objects.filter(pk__in=batch).values_list("case_id", flat=True))
            anonymise.case_notices(sorted(cases)).update(body="")
            count += _log(RecordType.PRE_DEPARTURE_LIST, batch, days)
    return count


def _apply_import_files(qs: QuerySet, days: int) -> int:
    count = 0
    for batch in _batches(qs):
        # The files first (storage is not transactional): a failure leaves the job unlogged, retried next run.
        for job in ImportJob.objects.filter(pk__in=batch).exclude(file=""):
            job.file.delete(save=False)
        with transaction.atomic():
            ImportJob.objects.filter(pk__in=batch).update(file="", errors=[], duplicates=[])
            count += _log(RecordType.IMPORT_FILE, batch, days)
    return count


def _apply_deliveries(qs: QuerySet, days: int) -> int:
    count = 0
    for batch in _batches(qs):
        with transaction.atomic():
            Delivery.objects.filter(pk__in=batch).update(payload={}, recipients="", last_error="")
            count += _log(RecordType.DELIVERY, batch, days)
    return count


def _log(record_type: str, ids: list[int], days: int) -> int:
    return anonymise.log(record_type, ids, reason=AnonymisationReason.RETENTION, retention_days=days)


APPLY = {
    RecordType.PERSON: _apply_people,
    RecordType.RETURN_CASE: _apply_return_cases,
    RecordType.PRE_DEPARTURE_LIST: _apply_pre_departure_entries,
    RecordType.IMPORT_FILE: _apply_import_files,
    RecordType.DELIVERY: _apply_deliveries,
}


def apply_retention(today: dt.date | None = None, *, dry_run: bool = False) -> dict[str, int]:
    """Anonymise everything past its period; {record type: records anonymised now} (counts of what would be, with
    `dry_run`). Idempotent: a second run on the same day returns zeros. A record type without a period (its row
    deleted) is left alone."""
    today = today or timezone.localdate()
    periods = policies()
    counts: dict[str, int] = {}
    for record_type in ORDER:
        policy = periods.get(record_type)
        if policy is None:
            counts[str(record_type)] = 0
            continue
        qs = SELECTORS[record_type](policy.days, today)
        if dry_run:
            counts[str(record_type)] = (
                len(anonymise.with_merged(qs.values_list("pk", flat=True)))
                if record_type == RecordType.PERSON
                else qs.count()
            )
        else:
            counts[str(record_type)] = APPLY[record_type](qs, policy.days)
    logger.info("retention %s on %s: %s", "dry run" if dry_run else "applied", today, counts)
    return counts
