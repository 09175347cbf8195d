"""Reminders on Letters of Understanding (MOU §39, §45, §47) and the early notice of repatriation operations
(MOU §31). Each LoU milestone is announced once per letter and per date it concerns (`LouReminder`), to both
parties' office managers and both organisations' HQ focal points."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jointops.choices import Role
from letters_of_understanding import lifecycle
from letters_of_understanding import selectors as lou_selectors
from letters_of_understanding.choices import OPERATIVE
from letters_of_understanding.models import LetterOfUnderstanding
from notifications import outbox
from notifications.choices import Milestone, NoticeKind
from notifications.models import LouReminder


def _due_milestones(today: dt.date) -> list[tuple[LetterOfUnderstanding, str, dt.date]]:
    """(letter, milestone, the date it concerns) for everything due today, in a few grouped queries."""
    operative = LetterOfUnderstanding.objects.filter(status__in=OPERATIVE).select_related("unhcr_office", "iom_office")
    due = []
    # MOU §39: a plan before the agreed end — at 90, 60 and 30 days (the nearest threshold crossed).
    for lou in lou_selectors.ending_without_agreed_plan(
        operative, within_days=max(lifecycle.REMINDER_DAYS), today=today
    ):
        days_left = (lou.end_date - today).days
        threshold = min(d for d in lifecycle.REMINDER_DAYS if days_left <= d)
        due.append((lou, {90: Milestone.END_90, 60: Milestone.END_60, 30: Milestone.END_30}[threshold], lou.end_date))
    for lou in lou_selectors.flagged_without_agreed_plan(operative):
        due.append((lou, Milestone.RESOURCES_FLAGGED, lou.resources_flagged_on))
    # MOU §47: a review within 30 days, then overdue.
    for lou in operative.filter(review_due_on__range=(today, today + dt.timedelta(days=30))):
        due.append((lou, Milestone.REVIEW_DUE, lou.review_due_on))
    for lou in lou_selectors.review_overdue(operative, today=today):
        due.append((lou, Milestone.REVIEW_OVERDUE, lou.review_due_on))
    # MOU §45: the termination takes effect within 30 days.
    for lou in operative.filter(termination_effective_on__range=(today, today + dt.timedelta(days=30))):
        due.append((lou, Milestone.NOTICE_EFFECTIVE, lou.termination_effective_on))
    return due


def _recipients(lou: LetterOfUnderstanding):
    managers = outbox.office_staff([lou.unhcr_office_id, lou.iom_office_id], roles=[Role.OFFICE_MANAGER])
    hqs = outbox.hq_focal_points([lou.unhcr_office.organisation_id, lou.iom_office.organisation_id])
    return [*managers, *hqs]


def lou_reminders_send(*, today: dt.date | None = None) -> int:
    """Daily. Announce each milestone due once; returns how many were announced now."""
    today = today or timezone.localdate()
    sent = 0
    for lou, milestone, concerns in _due_milestones(today):
        try:
            with transaction.atomic():
                LouReminder.objects.create(lou=lou, milestone=milestone, concerns_date=concerns)
                outbox.notify(
                    users=_recipients(lou),
                    kind=NoticeKind.LOU_REMINDER,
                    title=f"{lou.reference}: {Milestone(milestone).label}",
                    body=_("%(title)s — date concerned: %(date)s") % {"title": lou.title, "date": concerns.isoformat()},
                    url=lou.get_absolute_url(),
                )
        except IntegrityError:  # announced already (or by a concurrent run): once is enough
            continue
        sent += 1
    return sent


def operation_recorded(operation) -> None:
    """MOU §31: UNHCR informs IOM of expected repatriation operations at an early stage of planning. Called inside
    the transaction that records the operation; the IOM counterpart of the recording office (or, without one, the
    IOM offices in the country of return) hears of it."""
    from jointops.models import Office

    counterpart = operation.office.counterpart
    if counterpart is not None and counterpart.is_active:
        office_ids = [counterpart.pk]
    else:
        office_ids = list(
            Office.objects.filter(
                organisation__code="IOM", country=operation.country_of_origin, is_active=True
            ).values_list("pk", flat=True)
        )
    outbox.notify(
        users=outbox.office_staff(office_ids),
        kind=NoticeKind.REPATRIATION_OPERATION,
        title=_("UNHCR expects a repatriation operation: %(title)s") % {"title": operation.title},
        body=_("Recorded by %(office)s; country of return %(country)s; expected start %(start)s.")
        % {
            "office": operation.office.code,
            "country": operation.country_of_origin.name,
            "start": operation.expected_start.isoformat() if operation.expected_start else "—",
        },
        url=operation.get_absolute_url(),
    )
