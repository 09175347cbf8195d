"""Building the pre-departure name lists, IOM → UNHCR (Letter of 16 January 2003).

For each IOM office with a UNHCR counterpart, one list of what UNHCR must be told and has not been told yet:
- a departure scheduled within the horizon of a case UNHCR must be informed of (AVR of asylum-seekers before the
  decision, AVR of rejected asylum-seekers, any case with a person of concern to UNHCR) not listed before: `new`;
- a departure listed before whose date changed: `date_changed` (whatever the new date);
- a listed departure withdrawn — the person changed their mind, as they may up to embarkation: `withdrawn`;
- an embarkation confirmed (listed before, or recent): `embarked`, so that UNHCR can close its record.
One entry per person of the case. What an entry carries is `models.ENTRY_FIELDS`, nothing else.

The list, its entries, the inbox items and the outbox rows (`Delivery`) are written in one transaction, under a
lock on the sending office, so two builds at once (the daily beat and someone on demand) never list a change twice.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from jointops.audit import acting_as
from jointops.choices import IOM, UNHCR
from jointops.models import Office
from jointops.services import acting_user
from notifications.choices import DEPARTURE_ANNOUNCED, ChangeKind, Trigger
from notifications.models import DEFAULT_LEAD_TIME_DAYS, OfficePair, PreDepartureEntry, PreDepartureList
from returns.choices import UNHCR_INFORMED_KINDS, Stage
from returns.models import ReturnCase

EMBARKED_STAGES = (Stage.EMBARKED, Stage.ARRIVED, Stage.REINTEGRATION, Stage.CLOSED)


def horizon_days() -> int:
    return settings.PRE_DEPARTURE_HORIZON_DAYS


def sending_offices() -> dict[int, tuple[Office, Office]]:
    """IOM office id -> (the office that sends its lists, that office's UNHCR counterpart).

    An office sends its own lists when it has an active UNHCR counterpart; a field office without one is covered
    by the nearest office above it that has one.
    """
    offices = {
        o.pk: o for o in Office.objects.filter(organisation__code=IOM).select_related("counterpart__organisation")
    }
    result: dict[int, tuple[Office, Office]] = {}
    for office in offices.values():
        current, seen = office, set()
        while current is not None and current.pk not in seen:
            seen.add(current.pk)
            counterpart = current.counterpart
            if counterpart is not None and counterpart.is_active and counterpart.organisation.code == UNHCR:
                result[office.pk] = (current, counterpart)
                break
            current = offices.get(current.parent_id)
    return result


def lead_time(iom_office: Office, unhcr_office: Office) -> int:
    pair = OfficePair.objects.filter(iom_office=iom_office, unhcr_office=unhcr_office).first()
    return pair.lead_time_days if pair else DEFAULT_LEAD_TIME_DAYS


def _must_inform() -> Q:
    # Letter: AVR of asylum-seekers (and keeping UNHCR informed of rejected asylum-seekers' returns); any person of
    # concern to UNHCR brings the case in too (returns.flow.unhcr_must_be_informed, as one query).
    return Q(kind__in=UNHCR_INFORMED_KINDS) | Q(members__beneficiary__of_concern_to_unhcr=True)


def pending_changes(*, office_ids: list[int], today: dt.date) -> list[tuple[ReturnCase, Any, str]]:
    """(case, member, change) for everything UNHCR has not been told yet about cases led by `office_ids`."""
    horizon_end = today + dt.timedelta(days=horizon_days())
    recent = timezone.now() - dt.timedelta(days=horizon_days())
    candidates = (
        ReturnCase.objects.filter(lead_office_id__in=office_ids)
        .filter(_must_inform())
        .filter(
            Q(stage=Stage.DEPARTURE_SCHEDULED)
            | Q(stage=Stage.WITHDRAWN)
            | Q(stage__in=EMBARKED_STAGES, embarked_at__isnull=False)
        )
        .distinct()
        .prefetch_related("members__beneficiary")
    )
    cases = list(candidates)
    last: dict[tuple[int, int], PreDepartureEntry] = {}
    for entry in PreDepartureEntry.objects.filter(case__in=[c.pk for c in cases]).order_by("pk"):
        last[(entry.case_id, entry.beneficiary_id)] = entry
    listed_cases = {case_id for case_id, _ in last}
    changes = []
    for case in cases:
        for member in case.members.all():
            previous = last.get((case.pk, member.beneficiary_id))
            change = None
            if case.stage == Stage.DEPARTURE_SCHEDULED:
                if previous is None or previous.change not in DEPARTURE_ANNOUNCED:
                    if case.expected_departure_date and today <= case.expected_departure_date <= horizon_end:
                        change = ChangeKind.NEW
                elif previous.expected_departure_date != case.expected_departure_date:
                    change = ChangeKind.DATE_CHANGED
            elif case.stage == Stage.WITHDRAWN:
                if previous is not None and previous.change in DEPARTURE_ANNOUNCED:
                    change = ChangeKind.WITHDRAWN
            elif (previous is None or previous.change != ChangeKind.EMBARKED) and (
                case.pk in listed_cases or (case.embarked_at and case.embarked_at >= recent)
            ):
                change = ChangeKind.EMBARKED
            if change:
                changes.append((case, member, change))
    return changes


def _entry(case: ReturnCase, member: Any, change: str, *, today: dt.date, lead: int) -> PreDepartureEntry:
    person = member.beneficiary
    date = case.expected_departure_date
    days = (date - today).days if date else None
    return PreDepartureEntry(
        case=case,
        beneficiary=person,
        change=change,
        given_name=person.given_name,
        family_name=person.family_name,
        expected_departure_date=date,
        iom_case_reference=case.reference,
        unhcr_registration_number=person.unhcr_registration_number or "",
        days_before_departure=days,
        # Letter: "in a timely way" — an announcement reaching UNHCR later than the pair's lead time is late.
        is_late=change in DEPARTURE_ANNOUNCED and days is not None and days < lead,
    )


@transaction.atomic
def build_for_office(
    *, actor: Any, iom_office: Office, unhcr_office: Office, covered_ids: list[int], trigger: str, today: dt.date
) -> PreDepartureList | None:
    """One office's list (None when there is nothing new to tell). Locks the sending office for the build."""
    from notifications import outbox

    Office.objects.select_for_update().filter(pk=iom_office.pk).first()
    changes = pending_changes(office_ids=covered_ids, today=today)
    if not changes:
        return None
    lead = lead_time(iom_office, unhcr_office)
    stamp = timezone.localtime().strftime("%Y%m%d")
    pdl = PreDepartureList(
        # Unique: 4 random bytes, as case and household references (2 bytes collided within a hundred lists a day).
        reference=f"PDL-{iom_office.code}-{stamp}-{secrets.token_hex(4).upper()}",
        iom_office=iom_office,
        unhcr_office=unhcr_office,
        trigger=trigger,
        built_by=acting_user(actor),
        built_by_client=actor if getattr(actor, "is_api_client", False) else None,
        horizon_days=horizon_days(),
        lead_time_days=lead,
    )
    with acting_as(actor):
        pdl.save()
        entries = [_entry(case, member, change, today=today, lead=lead) for case, member, change in changes]
        for entry in entries:
            entry.list = pdl
        PreDepartureEntry.objects.bulk_create(entries)
        outbox.list_built(pdl)
    return pdl


def build_lists(
    *, actor: Any, trigger: str = Trigger.SCHEDULE, iom_office: Office | None = None, today: dt.date | None = None
) -> list[PreDepartureList]:
    """Build the lists of every IOM office (or of `iom_office` and the offices it covers). Each office's list is
    its own transaction: one office's failure does not hold back the others."""
    today = today or timezone.localdate()
    senders = sending_offices()
    groups: dict[int, list[int]] = defaultdict(list)
    pairs: dict[int, tuple[Office, Office]] = {}
    for office_id, (sender, counterpart) in senders.items():
        groups[sender.pk].append(office_id)
        pairs[sender.pk] = (sender, counterpart)
    if iom_office is not None:
        groups = {k: v for k, v in groups.items() if k == iom_office.pk}
    built = []
    for sender_id, covered in sorted(groups.items()):
        sender, counterpart = pairs[sender_id]
        pdl = build_for_office(
            actor=actor, iom_office=sender, unhcr_office=counterpart, covered_ids=covered, trigger=trigger, today=today
        )
        if pdl is not None:
            built.append(pdl)
    return built


def departure_listed(case: ReturnCase) -> bool:
    """Has the case's current departure reached the counterpart UNHCR office on a list? (returns.flow.LISTED_CHECK:
    embarkation waits for it, or for an emergency justification.) The list reaches UNHCR's inbox when it is built."""
    last = PreDepartureEntry.objects.filter(case=case).order_by("-pk").first()
    return bool(
        last is not None
        and last.change in DEPARTURE_ANNOUNCED
        and last.expected_departure_date == case.expected_departure_date
    )
