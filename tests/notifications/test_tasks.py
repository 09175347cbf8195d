"""Celery tasks of the notifications app and the beat schedule that runs them.

The tasks run in process (`.run()`, as tests/beneficiaries/test_tasks.py does) so that the test can look at the
database at each step; a real worker consuming them is tests/notifications/test_worker_kill.py."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from importlib import import_module

import pytest
from celery.schedules import crontab
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from jointops.celery import app, daily_at
from letters_of_understanding import services as lou_services
from notifications import services
from notifications.choices import DeliveryStatus, EmailPreference, Milestone, Trigger
from notifications.models import Delivery, LouReminder, OfficeContact, PreDepartureList
from notifications.tasks import (
    deliver_task,
    deliveries_sweep_task,
    digests_task,
    lou_reminders_task,
    pre_departure_lists_build_task,
)
from tests.factories.letters_of_understanding import in_force
from tests.factories.returns import scheduled
from tests.jointops.test_celery_worker import child_env

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def eager():
    """What the tasks publish (the sweeper's dispatch, retries) runs in this process."""
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def test_list_build_task_builds_every_office_once(world):
    af = scheduled(world.iom_af, world.iom_af_staff, days=10)
    de = scheduled(world.iom_de, world.iom_de_staff, days=12)
    built = pre_departure_lists_build_task.run()
    lists = PreDepartureList.objects.filter(pk__in=built)
    assert {(p.iom_office.code, p.unhcr_office.code) for p in lists} == {
        ("IOM-AF-KBL", "UNHCR-AF-KBL"),
        ("IOM-DE-BER", "UNHCR-DE-BER"),
    }
    assert {p.trigger for p in lists} == {Trigger.SCHEDULE} and not any(p.built_by_id for p in lists)
    assert {e.case_id for p in lists for e in p.entries.all()} == {af.pk, de.pk}
    assert pre_departure_lists_build_task.run() == []  # run twice (a redelivered message): nothing more


def test_list_build_task_for_one_office_and_its_field_offices(world):
    field = scheduled(world.iom_af_field, world.iom_field_staff, days=10)
    scheduled(world.iom_de, world.iom_de_staff, days=12)
    [pk] = pre_departure_lists_build_task.run(office_id=world.iom_af_field.pk)  # covered by IOM-AF-KBL
    pdl = PreDepartureList.objects.get(pk=pk)
    assert (pdl.iom_office, pdl.unhcr_office) == (world.iom_af, world.unhcr_af)
    assert [e.case_id for e in pdl.entries.all()] == [field.pk]
    assert not PreDepartureList.objects.filter(iom_office=world.iom_de).exists()
    # A UNHCR office, or an office deleted since the task was queued: nothing to build, no error.
    assert pre_departure_lists_build_task.run(office_id=world.unhcr_af.pk) == []
    assert pre_departure_lists_build_task.run(office_id=987654) == []


def test_deliver_task_sends_once(world):
    OfficeContact.objects.create(office=world.unhcr_af, email="kbl-lists@unhcr.example.org")
    scheduled(world.iom_af, world.iom_af_staff, days=10)
    [pdl] = services.pre_departure_lists_build(actor=None)
    row = Delivery.objects.get(pre_departure_list=pdl)
    mail.outbox.clear()
    assert deliver_task.run(row.pk) == "done"
    assert deliver_task.run(row.pk) == "skipped"
    assert deliver_task.run(987654) == "skipped"  # a delivery that no longer exists
    assert [m.to for m in mail.outbox] == [["kbl-lists@unhcr.example.org"]]


def test_sweep_task_dispatches_what_is_due(world):
    scheduled(world.iom_af, world.iom_af_staff, days=10)
    services.pre_departure_lists_build(actor=None)  # in this test's transaction: never committed, never dispatched
    mail.outbox.clear()
    assert deliveries_sweep_task.run() == 2  # the e-mails to UNHCR-AF-KBL's two members of staff
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DONE}
    assert len(mail.outbox) == 2
    assert deliveries_sweep_task.run() == 0


def test_reminders_task_announces_each_milestone_once(world):
    lou = in_force(world, end_date=timezone.localdate() + dt.timedelta(days=20))
    assert lou_reminders_task.run() == 1
    assert lou_reminders_task.run() == 0
    assert list(LouReminder.objects.values_list("lou", "milestone")) == [(lou.pk, Milestone.END_30)]


def test_digests_task_queues_each_notice_once(world):
    services.notification_settings_set(user=world.iom_hq_focal, email_preference=EmailPreference.DIGEST)
    lou = in_force(world, end_date=timezone.localdate() + dt.timedelta(days=700))
    lou_services.lou_flag_resources(actor=world.iom_af_staff, lou=lou, note="Funding ends")
    lou_reminders_task.run()
    mail.outbox.clear()
    assert digests_task.run() == 1
    assert digests_task.run() == 0
    row = Delivery.objects.get(digest_for=world.iom_hq_focal)
    assert deliver_task.run(row.pk) == "done"  # (no commit in this test: the worker's part, by hand)
    assert [m.to for m in mail.outbox] == [[world.iom_hq_focal.email]]


def test_tasks_are_acknowledged_late_and_receive_ids_only(world, monkeypatch, django_capture_on_commit_callbacks):
    # RELIABILITY.md "Consumption": acks late, reject on a lost worker, one message at a time per process.
    for task in (pre_departure_lists_build_task, deliver_task, lou_reminders_task, digests_task):
        assert task.acks_late
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert app.conf.worker_prefetch_multiplier == 1
    # Arguments are ids, never personal data (nothing of a person in the broker).
    sent = []
    monkeypatch.setattr(deliver_task, "delay", lambda *args, **kwargs: sent.append((args, kwargs)))
    scheduled(world.iom_af, world.iom_af_staff, days=10)
    with django_capture_on_commit_callbacks(execute=True):
        services.pre_departure_lists_build(actor=None)
    assert sorted(sent) == sorted(((pk,), {}) for pk in Delivery.objects.values_list("pk", flat=True))
    assert all(isinstance(args[0], int) for args, _ in sent)


# --- The beat schedule (jointops/celery.py) ---------------------------------------------------------------------


def _time(value: str) -> crontab:
    hour, minute = value.split(":")
    return crontab(hour=int(hour), minute=int(minute))


def test_beat_schedule_runs_the_lists_daily_the_sweeper_every_minute_reminders_and_digests(settings):
    schedule = app.conf.beat_schedule
    daily = {
        "pre-departure-lists": ("notifications.tasks.pre_departure_lists_build_task", "PRE_DEPARTURE_LIST_TIME"),
        "lou-reminders": ("notifications.tasks.lou_reminders_task", "REMINDERS_TIME"),
        "digests": ("notifications.tasks.digests_task", "DIGEST_TIME"),
    }
    for key, (task, setting) in daily.items():
        assert schedule[key]["task"] == task
        assert isinstance(schedule[key]["schedule"], crontab)
        assert schedule[key]["schedule"] == _time(getattr(settings, setting))
    assert schedule["deliveries-sweep"] == {"task": "notifications.tasks.deliveries_sweep_task", "schedule": 60.0}
    # Every scheduled name is a registered task (a typo would silently never run).
    for entry in schedule.values():
        module, name = entry["task"].rsplit(".", 1)
        assert getattr(import_module(module), name).name == entry["task"]


@pytest.mark.parametrize(
    ("value", "hour", "minute"), [("06:00", 6, 0), ("7:05", 7, 5), ("00:00", 0, 0), ("23:59", 23, 59)]
)
def test_daily_at_reads_the_setting(settings, value, hour, minute):
    settings.PRE_DEPARTURE_LIST_TIME = value
    assert daily_at("PRE_DEPARTURE_LIST_TIME") == crontab(hour=hour, minute=minute)


@pytest.mark.parametrize(
    "value", ["24:00", "12:60", "noon", "", "06:00:00", "06.00", " 06:00", "06:00\n", "-1:00", None, 600]
)
def test_daily_at_refuses_an_invalid_time_naming_the_variable(settings, value):
    settings.PRE_DEPARTURE_LIST_TIME = value
    with pytest.raises(ImproperlyConfigured, match="PRE_DEPARTURE_LIST_TIME must be a time of day as HH:MM"):
        daily_at("PRE_DEPARTURE_LIST_TIME")


SHOW_SCHEDULE = """
import json

import django

django.setup()
from jointops.celery import app

entry = app.conf.beat_schedule["pre-departure-lists"]["schedule"]
print(json.dumps([sorted(entry.hour), sorted(entry.minute)]))
"""


def test_the_environment_sets_the_list_time_and_a_bad_value_stops_the_start(tmp_path):
    from django.conf import settings

    def start(value: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", SHOW_SCHEDULE],
            env=child_env(tmp_path, PRE_DEPARTURE_LIST_TIME=value),
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=60,
        )

    good = start("07:45")
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout) == [[7], [45]]
    bad = start("7h45")
    assert bad.returncode != 0
    assert "ImproperlyConfigured: PRE_DEPARTURE_LIST_TIME must be a time of day as HH:MM" in bad.stderr
