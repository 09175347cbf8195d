"""Reminders on Letters of Understanding (MOU §39, §45, §47), the early notice of repatriation operations (MOU §31)
and the daily digest.

Each LoU milestone is announced once per letter (and per date it concerns), to both parties' office managers and
both organisations' HQ focal points — nobody else. The days go by through `lou_reminders_send(today=...)`, the date
the daily task passes (timezone.localdate() in production).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from jointops.choices import Role
from letters_of_understanding import services as lou_services
from notifications import delivery, reminders, services
from notifications.choices import EmailPreference, Milestone, NoticeKind
from notifications.models import Delivery, LouReminder, Notification
from returns import services as returns_services
from tests.factories.jointops import staff
from tests.factories.letters_of_understanding import agreed_plan, in_force
from tests.factories.returns import scheduled

pytestmark = pytest.mark.django_db

# MOU §39 / §45 / §47: both parties' office managers and both organisations' HQ focal points.
ANNOUNCED_TO = {"unhcr_af_manager", "iom_af_manager", "unhcr_hq_focal", "iom_hq_focal"}


@pytest.fixture(autouse=True)
def eager():
    """What the code under test publishes (e-mail deliveries, on commit) runs in this process."""
    from jointops.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def bystanders(world):
    """Managers of other offices (same organisations), who must hear of none of this letter's milestones."""
    return [staff(world.unhcr_de, Role.OFFICE_MANAGER, username="unhcr_de_manager"), world.iom_de_manager]


def send(day: dt.date) -> int:
    return reminders.lou_reminders_send(today=day)


def announced(lou) -> list[tuple[str, dt.date]]:
    return list(LouReminder.objects.filter(lou=lou).order_by("pk").values_list("milestone", "concerns_date"))


def recipients(lou, milestone: str) -> set[str]:
    title = f"{lou.reference}: {Milestone(milestone).label}"
    return set(
        Notification.objects.filter(kind=NoticeKind.LOU_REMINDER, title=title).values_list(
            "recipient__username", flat=True
        )
    )


def emailed(lou, milestone: str) -> list[str]:
    title = f"{lou.reference}: {Milestone(milestone).label}"
    return sorted(Delivery.objects.filter(notification__title=title).values_list("recipients", flat=True))


def test_end_of_letter_without_an_agreed_plan_is_announced_at_90_60_and_30_days_once_each(world, bystanders):
    today = timezone.localdate()
    # MOU §39: "a mutually agreeable plan for phase-out shall be prepared" before the agreed end.
    end = today + dt.timedelta(days=200)  # the first review (12 months, MOU §47) falls after the end
    lou = in_force(world, end_date=end)
    days = {n: end - dt.timedelta(days=n) for n in (95, 90, 89, 60, 45, 30, 1)}
    assert send(today) == 0 and send(days[95]) == 0
    assert send(days[90]) == 1 and send(days[90]) == 0 and send(days[89]) == 0  # twice the same day; the next day
    assert send(days[60]) == 1 and send(days[45]) == 0
    assert send(days[30]) == 1 and send(days[1]) == 0
    assert send(end + dt.timedelta(days=5)) == 0  # past the end, still no plan: not again
    assert announced(lou) == [(Milestone.END_90, end), (Milestone.END_60, end), (Milestone.END_30, end)]
    user_emails = {u.username: u.email for u in (world.unhcr_af_manager, world.iom_af_manager)}
    user_emails.update({u.username: u.email for u in (world.unhcr_hq_focal, world.iom_hq_focal)})
    for milestone in (Milestone.END_90, Milestone.END_60, Milestone.END_30):
        assert recipients(lou, milestone) == ANNOUNCED_TO
        assert emailed(lou, milestone) == sorted(user_emails.values())  # instant e-mails, one each
    assert Notification.objects.count() == 3 * len(ANNOUNCED_TO)
    outsiders = [world.iom_af_staff, world.unhcr_af_staff, world.iom_field_staff, world.iom_admin, *bystanders]
    assert not Notification.objects.filter(recipient__in=outsiders).exists()


def test_a_letter_first_seen_within_30_days_of_its_end_gets_the_30_day_reminder_only(world):
    today = timezone.localdate()
    end = today + dt.timedelta(days=20)
    lou = in_force(world, end_date=end)
    assert send(today) == 1
    assert announced(lou) == [(Milestone.END_30, end)]


def test_an_agreed_phase_out_plan_stops_the_section_39_reminders(world):
    today = timezone.localdate()
    end = today + dt.timedelta(days=200)
    lou = in_force(world, end_date=end)
    assert send(end - dt.timedelta(days=90)) == 1  # END_90, no plan yet
    lou_services.lou_flag_resources(actor=world.iom_af_staff, lou=lou, note="Donor funding ends in June")
    agreed_plan(world, lou)
    for n in (90, 60, 30, 1):
        assert send(end - dt.timedelta(days=n)) == 0
    assert announced(lou) == [(Milestone.END_90, end)]

    # And a flag on a letter whose plan is agreed already announces nothing.
    other = in_force(world, end_date=today + dt.timedelta(days=700))
    agreed_plan(world, other)
    lou_services.lou_flag_resources(actor=world.unhcr_af_staff, lou=other, note="Budget cut")
    assert send(today) == 0 and announced(other) == []


def test_resources_flagged_without_a_plan_is_announced_once(world, bystanders):
    today = timezone.localdate()
    # MOU §39: a party expects resources to be insufficient — a phase-out plan is now needed.
    lou = in_force(world, end_date=today + dt.timedelta(days=700))
    assert send(today) == 0
    lou_services.lou_flag_resources(actor=world.iom_af_staff, lou=lou, note="Donor funding ends in June")
    assert send(today) == 1 and send(today) == 0 and send(today + dt.timedelta(days=1)) == 0
    assert announced(lou) == [(Milestone.RESOURCES_FLAGGED, today)]
    assert recipients(lou, Milestone.RESOURCES_FLAGGED) == ANNOUNCED_TO


def test_review_due_then_overdue_once_each_and_again_for_the_next_review(world):
    today = timezone.localdate()
    # MOU §47: reviewed "at least annually"; the first review falls due 12 months after entry into force.
    lou = in_force(world, end_date=today + dt.timedelta(days=1000))
    due = lou.review_due_on
    assert due == lou_services.add_months(today, 12)
    assert send(due - dt.timedelta(days=31)) == 0
    assert send(due - dt.timedelta(days=30)) == 1 and send(due - dt.timedelta(days=29)) == 0
    assert send(due) == 0  # due today: not overdue yet, announced already
    assert send(due + dt.timedelta(days=1)) == 1 and send(due + dt.timedelta(days=2)) == 0
    assert announced(lou) == [(Milestone.REVIEW_DUE, due), (Milestone.REVIEW_OVERDUE, due)]
    assert recipients(lou, Milestone.REVIEW_DUE) == recipients(lou, Milestone.REVIEW_OVERDUE) == ANNOUNCED_TO

    # A review held sets the next date: its reminder is a new milestone, announced once too.
    next_due = today + dt.timedelta(days=100)
    lou_services.lou_record_review(
        actor=world.iom_af_staff,
        lou=lou,
        held_on=today,
        outcome="continue",
        summary="On track",
        next_review_due=next_due,
    )
    assert send(next_due - dt.timedelta(days=10)) == 1 and send(next_due - dt.timedelta(days=9)) == 0
    assert announced(lou)[-1] == (Milestone.REVIEW_DUE, next_due)


def test_termination_taking_effect_within_30_days_is_announced_once(world, bystanders):
    today = timezone.localdate()
    # MOU §45: either party terminates on 90 days' written notice.
    lou = in_force(world, end_date=today + dt.timedelta(days=1000))
    lou = lou_services.lou_serve_notice(actor=world.unhcr_af_manager, lou=lou, reason="The operation ends")
    effective = lou.termination_effective_on
    assert effective == today + dt.timedelta(days=90)
    assert send(today) == 0 and send(effective - dt.timedelta(days=31)) == 0
    assert send(effective - dt.timedelta(days=30)) == 1 and send(effective - dt.timedelta(days=1)) == 0
    assert announced(lou) == [(Milestone.NOTICE_EFFECTIVE, effective)]
    assert recipients(lou, Milestone.NOTICE_EFFECTIVE) == ANNOUNCED_TO


def test_reminders_are_e_mailed_once_on_commit(world, django_capture_on_commit_callbacks):
    today = timezone.localdate()
    lou = in_force(world, end_date=today + dt.timedelta(days=20))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert send(today) == 1
    assert sorted(address for m in mail.outbox for address in m.to) == sorted(
        u.email for u in (world.unhcr_af_manager, world.iom_af_manager, world.unhcr_hq_focal, world.iom_hq_focal)
    )
    assert all(lou.reference in m.subject for m in mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        assert send(today) == 0 and services.sweep() == 0
    assert len(mail.outbox) == 4


# --- MOU §31: early notice of repatriation operations, UNHCR → IOM ------------------------------------------------


def test_a_repatriation_operation_reaches_the_iom_counterpart_office_at_once(world, django_capture_on_commit_callbacks):
    today = timezone.localdate()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        operation = returns_services.operation_create(
            actor=world.unhcr_af_staff,
            office=world.unhcr_af,
            title="Organised return from Pakistan",
            kind="organised",
            country_of_origin="AF",
            expected_start=today + dt.timedelta(days=120),
        )
    notices = Notification.objects.filter(kind=NoticeKind.REPATRIATION_OPERATION)
    # The counterpart of UNHCR-AF-KBL is IOM-AF-KBL: its staff and manager; not its field office, not Berlin, not
    # UNHCR's own staff, not HQ.
    assert set(notices.values_list("recipient__username", flat=True)) == {"iom_af_staff", "iom_af_manager"}
    notice = notices.first()
    assert operation.title in notice.title and notice.url == operation.get_absolute_url()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([world.iom_af_staff.email, world.iom_af_manager.email])
    assert all(operation.title in m.subject for m in mail.outbox)


# --- Digests ----------------------------------------------------------------------------------------------------


def test_a_digest_user_gets_no_instant_email_then_one_digest_of_their_notices_once(
    world, django_capture_on_commit_callbacks
):
    today = timezone.localdate()
    manager = world.unhcr_af_manager
    services.notification_settings_set(user=manager, email_preference=EmailPreference.DIGEST)
    services.notification_settings_set(user=world.iom_hq_focal, email_preference=EmailPreference.NONE)
    lou = in_force(world, end_date=today + dt.timedelta(days=20))
    scheduled(world.iom_af, world.iom_af_staff, days=10)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert send(today) == 1  # to the manager: an LoU reminder
        [pdl] = services.pre_departure_lists_build(actor=None)  # to the manager's office: the list
    mine = Notification.objects.filter(recipient=manager)
    assert mine.count() == 2 and not mine.filter(emailed_at__isnull=False).exists()
    assert not Delivery.objects.filter(notification__recipient=manager).exists()
    assert manager.email not in {address for m in mail.outbox for address in m.to}
    assert world.iom_hq_focal.email not in {address for m in mail.outbox for address in m.to}  # inbox only
    instant = len(mail.outbox)
    assert instant > 0  # the others chose instant e-mails

    with django_capture_on_commit_callbacks(execute=True):
        assert services.digests_queue() == 1  # the manager only; the "none" preference gets no digest either
    [digest] = mail.outbox[instant:]
    assert digest.to == [manager.email]
    assert lou.reference in digest.body and pdl.reference in digest.body
    [row] = Delivery.objects.filter(digest_for=manager)
    assert digest.extra_headers["Message-ID"] == f"<{row.key}@jointops>"
    assert not mine.filter(emailed_at__isnull=True).exists()

    with django_capture_on_commit_callbacks(execute=True):
        assert services.digests_queue() == 0
    assert delivery.deliver(row.pk) == "skipped"
    assert len(mail.outbox) == instant + 1


def test_a_voluntariness_concern_reaches_a_digest_user_at_once_and_not_again_in_the_digest(
    world, django_capture_on_commit_callbacks
):
    owner = world.iom_af_staff
    services.notification_settings_set(user=owner, email_preference=EmailPreference.DIGEST)
    scheduled(world.iom_af, owner, days=10)
    [pdl] = services.pre_departure_lists_build(actor=None)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.entry_record_concern(actor=world.unhcr_af_staff, entry=pdl.entries.get(), concern="Under pressure")
    assert [m.to for m in mail.outbox] == [[owner.email]]
    with django_capture_on_commit_callbacks(execute=True):
        assert services.digests_queue() == 0
    assert len(mail.outbox) == 1
