"""Retention periods applied (issue 8): for each record type the boundary day (day `days` kept, day `days` + 1
anonymised), what protects a person (an open case, an open request), idempotence, the log, the dry run, the
management command, the Celery task (through a real worker), the beat schedule, the page and the admin."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
import time

import pytest
from django.contrib import admin
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from beneficiaries import services as beneficiary_services
from beneficiaries.models import Beneficiary, ImportJob
from notifications import outbox
from notifications import services as notification_services
from notifications.choices import Channel, DeliveryStatus
from notifications.models import Delivery, PreDepartureEntry
from privacy import retention
from privacy.admin import AnonymisationAdmin, RetentionPolicyAdmin
from privacy.anonymise import ANONYMISED, anonymise_person, log
from privacy.choices import AnonymisationReason, RecordType, RequestStatus
from privacy.models import Anonymisation, DataSubjectRequest, RetentionPolicy
from privacy.tasks import apply_retention_task
from returns.choices import FINAL_STAGES
from returns.models import CaseTransition, ReturnCase
from tests.factories.beneficiaries import person
from tests.factories.returns import case, move, scheduled
from tests.jointops.test_celery_worker import DEADLINE_SECONDS, _new_queue, child_env

pytestmark = pytest.mark.django_db

DAYS = 10
TODAY = dt.date(2026, 11, 22)
KEPT_DAY = TODAY - dt.timedelta(days=DAYS)  # the event on this day: still within the period
GONE_DAY = KEPT_DAY - dt.timedelta(days=1)  # one day earlier: past it


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_current_timezone())


def periods(**days: int) -> None:
    """Every period far away except those given (so each test sees one record type at work)."""
    RetentionPolicy.objects.update(days=36500)
    for record_type, value in days.items():
        RetentionPolicy.objects.filter(record_type=record_type).update(days=value)


def closed_case(w, *, closed_at: dt.datetime, **fields) -> ReturnCase:
    """A case withdrawn (a final stage) at `closed_at`."""
    c = case(w.iom_af, w.iom_af_staff, **fields)
    c = move(c, w.iom_af_staff, "withdraw", reason="changed her mind")
    CaseTransition.objects.filter(case=c, to_stage__in=FINAL_STAGES).update(at=closed_at)
    return c


def unchanged_since(p: Beneficiary, when: dt.datetime) -> Beneficiary:
    Beneficiary.objects.filter(pk=p.pk).update(updated_at=when)
    return p


def anonymised(p) -> bool:
    return Beneficiary.objects.get(pk=p.pk).anonymised_at is not None


# --- The boundary day, per record type -------------------------------------------------------------------------


def test_person_last_case_closed_day_days_is_kept_day_days_plus_one_is_anonymised(world):
    periods(person=DAYS)
    kept = closed_case(world, closed_at=at(KEPT_DAY, 0, 0)).members.get().beneficiary
    gone = closed_case(world, closed_at=at(GONE_DAY, 23, 59)).members.get().beneficiary

    counts = retention.apply_retention(today=TODAY)

    assert counts[RecordType.PERSON] == 1
    assert anonymised(gone) and not anonymised(kept)
    row = Anonymisation.objects.get(record_type=RecordType.PERSON)
    assert (row.object_id, row.reason, row.retention_days, row.by) == (gone.pk, "retention", DAYS, None)


def test_person_counts_from_the_last_of_their_cases(world):
    periods(person=DAYS)
    p = closed_case(world, closed_at=at(GONE_DAY, 12)).members.get().beneficiary
    closed_case(world, closed_at=at(KEPT_DAY, 12), principal=p)  # a second case, closed later

    assert retention.apply_retention(today=TODAY)[RecordType.PERSON] == 0
    assert not anonymised(p)


def test_person_without_a_case_counts_from_the_last_change_of_the_record(world):
    periods(person=DAYS)
    kept = unchanged_since(person(world.iom_af), at(KEPT_DAY, 0))
    gone = unchanged_since(person(world.iom_af), at(GONE_DAY, 23, 59))
    fresh = person(world.iom_af)

    assert retention.apply_retention(today=TODAY)[RecordType.PERSON] == 1

    assert anonymised(gone) and not anonymised(kept) and not anonymised(fresh)


def test_person_with_an_open_case_is_never_anonymised(world):
    periods(person=DAYS)
    p = closed_case(world, closed_at=at(GONE_DAY - dt.timedelta(days=400), 12)).members.get().beneficiary
    case(world.iom_af, world.iom_af_staff, principal=p)  # open
    unchanged_since(p, at(GONE_DAY - dt.timedelta(days=400), 12))

    assert retention.apply_retention(today=TODAY)[RecordType.PERSON] == 0
    assert not anonymised(p)


def test_person_with_an_open_data_subject_request_is_never_anonymised_until_it_is_decided(world):
    periods(person=DAYS)
    p = unchanged_since(person(world.iom_af), at(GONE_DAY, 12))
    request = DataSubjectRequest.objects.create(
        person=p, office=world.iom_af, kind="access", received_on=TODAY, channel="letter"
    )
    Beneficiary.objects.filter(pk=p.pk).update(updated_at=at(GONE_DAY, 12))

    assert retention.apply_retention(today=TODAY)[RecordType.PERSON] == 0
    assert not anonymised(p)

    DataSubjectRequest.objects.filter(pk=request.pk).update(status=RequestStatus.GRANTED)
    assert retention.apply_retention(today=TODAY)[RecordType.PERSON] == 1
    assert anonymised(p)


def test_merged_records_follow_their_survivor(world):
    periods(person=DAYS)
    survivor = person(world.iom_af, given_name="Mohammad", family_name="Karimi")
    duplicate = person(world.iom_af, given_name="Muhammad", family_name="Karimy")
    beneficiary_services.beneficiary_merge(actor=None, survivor=survivor, duplicate=duplicate)
    Beneficiary.objects.filter(pk=survivor.pk).update(updated_at=at(GONE_DAY, 12))

    assert retention.apply_retention(today=TODAY)[RecordType.PERSON] == 2
    assert anonymised(survivor) and anonymised(duplicate)


def test_return_case_notes_closed_day_days_are_kept_day_days_plus_one_are_cleared(world):
    periods(return_case=DAYS)
    kept = closed_case(world, closed_at=at(KEPT_DAY, 0), travel_details="Escort A", place_of_return="Herat")
    gone = closed_case(world, closed_at=at(GONE_DAY, 23, 59), travel_details="Escort B", place_of_return="Kabul")
    still_open = case(world.iom_af, world.iom_af_staff, travel_details="Escort C")
    ReturnCase.objects.filter(pk=still_open.pk).update(updated_at=at(GONE_DAY, 0))

    counts = retention.apply_retention(today=TODAY)

    assert counts[RecordType.RETURN_CASE] == 1
    gone.refresh_from_db()
    assert (gone.travel_details, gone.place_of_return, gone.stage) == ("", "", "withdrawn")
    assert set(gone.transitions.values_list("reason", flat=True)) == {""}
    assert set(ReturnCase.history.filter(id=gone.pk).values_list("travel_details", flat=True)) == {""}
    assert ReturnCase.objects.get(pk=kept.pk).travel_details == "Escort A"
    assert ReturnCase.objects.get(pk=still_open.pk).travel_details == "Escort C"
    assert list(Anonymisation.objects.values_list("record_type", "object_id")) == [("return_case", gone.pk)]
    assert not anonymised(gone.members.get().beneficiary)  # the person's own period has not run out


def test_pre_departure_entry_departure_day_days_is_kept_day_days_plus_one_is_anonymised(world):
    periods(pre_departure_list=DAYS)
    first = scheduled(world.iom_af, world.iom_af_staff, days=5)
    second = scheduled(world.iom_af, world.iom_af_staff, days=6)
    notification_services.pre_departure_lists_build(actor=None)
    kept, gone = PreDepartureEntry.objects.get(case=first), PreDepartureEntry.objects.get(case=second)
    PreDepartureEntry.objects.filter(pk=kept.pk).update(expected_departure_date=KEPT_DAY)
    PreDepartureEntry.objects.filter(pk=gone.pk).update(expected_departure_date=GONE_DAY)
    names = (gone.given_name, gone.family_name)

    assert retention.apply_retention(today=TODAY)[RecordType.PRE_DEPARTURE_LIST] == 1

    gone.refresh_from_db()
    assert (gone.given_name, gone.family_name, gone.unhcr_registration_number) == (ANONYMISED, f"#{gone.pk}", "")
    assert gone.iom_case_reference == second.reference and gone.expected_departure_date == GONE_DAY
    assert not PreDepartureEntry.history.filter(id=gone.pk).exists()
    assert PreDepartureEntry.objects.get(pk=kept.pk).given_name == kept.given_name
    person_of_gone = Beneficiary.objects.get(pk=gone.beneficiary_id)
    assert (person_of_gone.given_name, person_of_gone.family_name) == names  # the person's record is not the list's


def _job(world, *, ended: dt.datetime, content: bytes = b"given_name,family_name\nAmina,Rahimi\n") -> ImportJob:
    job = ImportJob(office=world.iom_af, file_name="people.csv", status=ImportJob.Status.FAILED, finished_at=ended)
    job.errors = [{"row": 2, "column": "date_of_birth", "message": "Amina Rahimi: not a date"}]
    job.duplicates = [{"row": 3, "given_name": "Amina", "family_name": "Rahimi", "matches": [1]}]
    job.error_count, job.duplicate_count = 1, 1
    job.file.save("leftover.csv", ContentFile(content), save=False)
    job.save()
    return job


def test_import_files_and_reports_day_days_are_kept_day_days_plus_one_are_deleted(world):
    periods(import_file=DAYS)
    kept, gone = _job(world, ended=at(KEPT_DAY, 0)), _job(world, ended=at(GONE_DAY, 23, 59))
    gone_file = gone.file.name
    assert default_storage.exists(gone_file)

    assert retention.apply_retention(today=TODAY)[RecordType.IMPORT_FILE] == 1

    gone.refresh_from_db()
    assert not default_storage.exists(gone_file)
    assert (gone.file.name, gone.errors, gone.duplicates) == ("", [], [])
    assert (gone.error_count, gone.duplicate_count, gone.file_name) == (1, 1, "people.csv")  # counts stay
    kept.refresh_from_db()
    assert default_storage.exists(kept.file.name) and kept.errors
    kept.file.delete(save=False)


def test_delivery_contents_day_days_are_kept_day_days_plus_one_are_emptied(world):
    periods(delivery=DAYS)
    rows = {}
    for name, done_at, status in [
        ("kept", at(KEPT_DAY, 0), DeliveryStatus.DONE),
        ("gone", at(GONE_DAY, 23, 59), DeliveryStatus.DONE),
        ("failed", at(GONE_DAY, 12), DeliveryStatus.FAILED),  # parked: an administrator may still retry it
    ]:
        d = outbox.new_delivery(channel=Channel.EMAIL, recipients="kabul@unhcr.example.org", payload={"ids": [1]})
        Delivery.objects.filter(pk=d.pk).update(status=status, done_at=done_at, last_error="was: x")
        rows[name] = d

    assert retention.apply_retention(today=TODAY)[RecordType.DELIVERY] == 1

    gone = Delivery.objects.get(pk=rows["gone"].pk)
    assert (gone.payload, gone.recipients, gone.last_error, gone.status) == ({}, "", "", DeliveryStatus.DONE)
    for name in ("kept", "failed"):
        assert Delivery.objects.get(pk=rows[name].pk).recipients == "kabul@unhcr.example.org"


# --- Idempotent, dry run, command, task -----------------------------------------------------------------------


def _a_bit_of_everything(world):
    periods(person=DAYS, return_case=DAYS, pre_departure_list=DAYS, import_file=DAYS, delivery=DAYS)
    closed_case(world, closed_at=at(GONE_DAY, 12), travel_details="Escort")
    unchanged_since(person(world.iom_af), at(GONE_DAY, 12))
    scheduled(world.iom_af, world.iom_af_staff, days=5)
    notification_services.pre_departure_lists_build(actor=None)
    PreDepartureEntry.objects.update(expected_departure_date=GONE_DAY)
    _job(world, ended=at(GONE_DAY, 12))
    d = outbox.new_delivery(channel=Channel.EMAIL, recipients="kabul@unhcr.example.org")
    Delivery.objects.filter(pk=d.pk).update(status=DeliveryStatus.DONE, done_at=at(GONE_DAY, 12))


EXPECTED = {"return_case": 1, "pre_departure_list": 1, "person": 2, "import_file": 1, "delivery": 1}


def test_apply_retention_a_second_time_changes_nothing(world):
    _a_bit_of_everything(world)
    assert retention.apply_retention(today=TODAY) == EXPECTED
    people = list(Beneficiary.objects.order_by("pk").values())
    logged = Anonymisation.objects.count()

    assert retention.apply_retention(today=TODAY) == dict.fromkeys(EXPECTED, 0)

    assert list(Beneficiary.objects.order_by("pk").values()) == people
    assert Anonymisation.objects.count() == logged == sum(EXPECTED.values())


def test_apply_retention_dry_run_counts_and_changes_nothing(world):
    _a_bit_of_everything(world)

    assert retention.apply_retention(today=TODAY, dry_run=True) == EXPECTED

    assert not Anonymisation.objects.exists()
    assert not Beneficiary.objects.filter(anonymised_at__isnull=False).exists()


def test_apply_retention_in_batches_anonymises_every_one(world, monkeypatch):
    periods(person=DAYS)
    people = [unchanged_since(person(world.iom_af), at(GONE_DAY, 12)) for _ in range(5)]
    monkeypatch.setattr(retention, "BATCH_SIZE", 2)

    assert retention.apply_retention(today=TODAY)[RecordType.PERSON] == 5

    assert all(anonymised(p) for p in people)


def test_apply_retention_command_prints_the_counts(world):
    periods(person=1)
    p = unchanged_since(person(world.iom_af), timezone.now() - dt.timedelta(days=3))
    out = io.StringIO()

    call_command("apply_retention", "--dry-run", stdout=out)

    assert "dry run" in out.getvalue() and "person" in out.getvalue() and "Total: 1" in out.getvalue()
    assert not anonymised(p)
    out = io.StringIO()
    call_command("apply_retention", stdout=out)
    assert "Anonymised now" in out.getvalue() and "Total: 1" in out.getvalue()
    assert anonymised(p)


def test_apply_retention_task_returns_the_counts(world):
    periods(person=1)
    p = unchanged_since(person(world.iom_af), timezone.now() - dt.timedelta(days=3))

    counts = apply_retention_task()

    assert counts[RecordType.PERSON] == 1 and anonymised(p)


def test_retention_is_scheduled_daily_at_retention_time():
    from jointops.celery import app

    entry = app.conf.beat_schedule["retention"]
    assert entry["task"] == "privacy.tasks.apply_retention_task" == apply_retention_task.name
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({3}, {30})


PUBLISH = """
import sys
import django

django.setup()
from jointops.celery import app
from privacy.tasks import apply_retention_task

app.conf.task_default_queue = sys.argv[1]
apply_retention_task.delay()
"""


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_retention_task(tmp_path):
    from tests.factories.jointops import build_world

    world = build_world()
    periods(person=1)
    p = unchanged_since(person(world.iom_af), timezone.now() - dt.timedelta(days=3))
    env = child_env(tmp_path, CELERY_BROKER_URL="filesystem://")
    queue = _new_queue()
    command = [sys.executable, "-m", "celery", "-A", "jointops", "worker", "--concurrency", "1", "-l", "info"]
    command += ["-Q", queue, "-n", f"{queue}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    log_path = tmp_path / "worker.log"
    from django.conf import settings

    with open(log_path, "wb") as log_file:
        worker = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        publish = subprocess.run(
            [sys.executable, "-c", PUBLISH, queue],
            env=env,
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=DEADLINE_SECONDS,
        )
        assert publish.returncode == 0, publish.stderr
        deadline = time.monotonic() + DEADLINE_SECONDS
        while not Anonymisation.objects.filter(record_type=RecordType.PERSON, object_id=p.pk).exists():
            assert time.monotonic() < deadline, f"not anonymised after {DEADLINE_SECONDS}s:\n{log_path.read_text()}"
            try:
                code = worker.wait(timeout=0.25)
            except subprocess.TimeoutExpired:
                continue
            pytest.fail(f"the worker exited with status {code}:\n{log_path.read_text()}")
        worker.terminate()
        assert worker.wait(timeout=DEADLINE_SECONDS) == 0, log_path.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert anonymised(p)
    assert "privacy.tasks.apply_retention_task" in log_path.read_text()


# --- The page and the admin ------------------------------------------------------------------------------------

URL = "/privacy/retention/"


def _logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_retention_page_shows_periods_and_latest_anonymisations_to_hq_and_administrators(world):
    p = person(world.iom_af, given_name="Soraya", family_name="Wardak")
    anonymise_person(p, reason=AnonymisationReason.RETENTION)
    assert reverse("privacy_retention:retention") == URL

    for user in (world.iom_hq_focal, world.unhcr_admin):
        response = _logged_in(user).get(URL)
        assert response.status_code == 200
        text = response.content.decode()
        assert "Five years after the last return case closed" in text and "1825" in text
        assert f'<td class="font-monospace">{p.pk}</td>' in text
        assert "Wardak" not in text and "Soraya" not in text


@pytest.mark.parametrize("who", ["iom_af_staff", "iom_af_manager", "unhcr_de_staff"])
def test_retention_page_is_refused_to_other_roles(world, who):
    assert _logged_in(getattr(world, who)).get(URL).status_code == 403


def test_retention_page_filters_by_record_type_and_ignores_an_unknown_one(world):
    log(RecordType.DELIVERY, [4242], reason="retention")
    log(RecordType.IMPORT_FILE, [4343], reason="retention")
    client = _logged_in(world.iom_admin)

    only = client.get(URL, {"type": "delivery"})
    assert [a.object_id for a in only.context["anonymisations"]] == [4242]
    every = client.get(URL, {"type": "<script>"})
    assert every.status_code == 200 and len(every.context["anonymisations"]) == 2


def test_retention_page_makes_the_same_queries_whatever_the_log_holds(world):
    client = _logged_in(world.iom_hq_focal)
    client.get(URL)
    counts = []
    for rows in (1, 50):
        log(RecordType.DELIVERY, range(len(counts) * 100, len(counts) * 100 + rows), reason="retention")
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_admin_periods_change_only_by_administrators_and_the_log_is_read_only(world, django_user_model):
    factory = RequestFactory()
    policy_admin = RetentionPolicyAdmin(RetentionPolicy, admin.site)
    log_admin = AnonymisationAdmin(Anonymisation, admin.site)
    for user, can_view, can_change in [
        (world.iom_admin, True, True),
        (world.unhcr_hq_focal, True, False),
        (world.iom_af_manager, False, False),
    ]:
        user.is_staff = True
        request = factory.get("/admin/")
        request.user = user
        assert policy_admin.has_view_permission(request) is can_view, user
        assert policy_admin.has_change_permission(request) is can_change, user
        assert log_admin.has_view_permission(request) is can_view, user
        assert not policy_admin.has_add_permission(request) and not policy_admin.has_delete_permission(request)
        assert not (log_admin.has_change_permission(request) or log_admin.has_delete_permission(request))
        assert not log_admin.has_add_permission(request)
    superuser = django_user_model.objects.create_superuser("root", "root@example.org", "x" * 16)
    request = factory.get("/admin/")
    request.user = superuser
    assert policy_admin.has_change_permission(request) and not log_admin.has_change_permission(request)
