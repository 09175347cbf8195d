"""The outbox, channel by channel: each message leaves once, nothing is lost, failures are retried then parked.

Edges, not mocks: Django's locmem e-mail backend (or the SMTP backend pointed at a closed port) is the mail server; a
real HTTP server thread (webhook_receiver.py) is the partner system. Celery runs eagerly in process here, so that
what the sweeper dispatches runs in the test's transaction; a real worker, killed mid-delivery, is
tests/notifications/test_worker_kill.py.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import socket
import subprocess
import sys
import time

import pytest
from django.core import mail
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from jointops import services as jointops_services
from jointops.exceptions import Conflict, PermissionRefused
from jointops.models import ApiClient
from notifications import delivery, services
from notifications.choices import Channel, DeliveryStatus
from notifications.models import ENTRY_FIELDS, Delivery, Notification, PreDepartureList
from returns import services as returns_services
from tests.factories.beneficiaries import person
from tests.factories.returns import scheduled
from tests.jointops.test_celery_worker import child_env
from tests.notifications.webhook_receiver import WebhookReceiver, valid_signature

pytestmark = pytest.mark.django_db

LIST_ADDRESSES = ["kbl-lists@unhcr.example.org", "kbl-protection@unhcr.example.org"]
DEADLINE_SECONDS = 60


@pytest.fixture(autouse=True)
def eager():
    """Tasks published by the code under test (the sweeper's dispatch, the retries `_fail` schedules) run in this
    process, so nothing is left on a broker no worker of this test reads."""
    from jointops.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = before


@pytest.fixture
def receiver():
    with WebhookReceiver() as running:
        yield running


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def office_contacts(world) -> None:
    """The UNHCR office's notification addresses (set by its administrators), plus addresses that must not receive
    the list: one switched off, one of another UNHCR office."""
    for address in LIST_ADDRESSES:
        services.office_contact_add(actor=world.unhcr_admin, office=world.unhcr_af, email=address)
    off = services.office_contact_add(actor=world.unhcr_admin, office=world.unhcr_af, email="old@unhcr.example.org")
    type(off).objects.filter(pk=off.pk).update(is_active=False)
    services.office_contact_add(actor=world.unhcr_admin, office=world.unhcr_de, email="ber-lists@unhcr.example.org")


def subscribe(world, url: str, *, office=None, name: str = "UNHCR registration system", **client_fields):
    """A partner system with read access to the pre-departure lists of `office`, subscribed at `url`."""
    client, _token = jointops_services.api_client_create(
        actor=world.unhcr_admin,
        name=name,
        office=office or world.unhcr_af,
        scopes=["pre-departure-lists:read"],
        **client_fields,
    )
    return services.webhook_subscription_create(actor=world.unhcr_admin, api_client=client, url=url)


def build_list(world, **person_fields) -> PreDepartureList:
    principal = person(world.iom_af, actor=world.iom_af_staff, **person_fields)
    scheduled(world.iom_af, world.iom_af_staff, principal=principal, days=10)
    [pdl] = services.pre_departure_lists_build(actor=None)
    return pdl


def list_delivery(pdl, channel: str) -> Delivery:
    return Delivery.objects.get(pre_departure_list=pdl, channel=channel)


def make_due(d: Delivery) -> None:
    """The backoff has passed (instead of waiting for it)."""
    Delivery.objects.filter(pk=d.pk).update(next_attempt_at=timezone.now())


# --- E-mail to the UNHCR office's notification addresses (Letter) ----------------------------------------------


def test_list_email_goes_to_the_office_addresses_with_csv_and_pdf_then_is_never_sent_again(world):
    from pypdf import PdfReader

    office_contacts(world)
    pdl = build_list(world, given_name="Amina", family_name="Noori")
    d = list_delivery(pdl, Channel.EMAIL)
    assert d.status == DeliveryStatus.PENDING and d.attempts == 0
    mail.outbox.clear()

    assert delivery.deliver(d.pk) == "done"

    [message] = mail.outbox
    assert sorted(message.to) == sorted(LIST_ADDRESSES)  # not the inactive one, not Berlin's
    assert pdl.reference in message.subject and "Amina" not in message.body  # names travel in the attachments
    assert message.extra_headers["Message-ID"] == f"<{d.key}@jointops>"
    assert message.message()["Message-ID"] == f"<{d.key}@jointops>"
    attachments = {name: (content, mimetype) for name, content, mimetype in message.attachments}
    assert set(attachments) == {f"{pdl.reference}.csv", f"{pdl.reference}.pdf"}
    csv_content, csv_type = attachments[f"{pdl.reference}.csv"]
    assert csv_type == "text/csv"
    text = csv_content.decode("utf-8-sig") if isinstance(csv_content, bytes) else csv_content.lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 2 and rows[1][:2] == ["Amina", "Noori"]
    pdf_content, pdf_type = attachments[f"{pdl.reference}.pdf"]
    assert pdf_type == "application/pdf" and pdf_content.startswith(b"%PDF-")
    pdf_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf_content)).pages)
    assert pdl.reference in pdf_text and "Noori" in pdf_text
    d.refresh_from_db()
    assert (d.status, d.attempts, d.last_error) == (DeliveryStatus.DONE, 1, "") and d.done_at

    # The same message again (a duplicate task message, a sweep): nothing is sent.
    assert delivery.deliver(d.pk) == "skipped"
    assert len(mail.outbox) == 1
    d.refresh_from_db()
    assert d.attempts == 1


# --- Webhook: signed POST to the partner system ------------------------------------------------------------------


CANARIES = {"phone": "CANARY-PHONE", "government_id": "CANARY-GOVID", "address": "CANARY-ADDRESS"}


def test_webhook_is_signed_carries_its_idempotency_key_and_only_the_allow_listed_fields(world, receiver):
    subscription = subscribe(world, receiver.url)
    subscribe(world, receiver.url, office=world.unhcr_de, name="Berlin system")  # does not cover UNHCR-AF-KBL
    pdl = build_list(world, unhcr_registration_number="KBL-77", **CANARIES)
    d = list_delivery(pdl, Channel.WEBHOOK)
    assert d.subscription == subscription

    assert delivery.deliver(d.pk) == "done"

    [request] = receiver.received
    assert request.headers["Content-Type"] == "application/json"
    assert request.key == str(d.key)
    # The partner's own check: HMAC-SHA256 over "<timestamp>.<body>" with the subscription's secret.
    timestamp = request.headers["X-Jointops-Timestamp"]
    expected = hmac.new(subscription.secret.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256)
    assert request.headers["X-Jointops-Signature"] == f"sha256={expected.hexdigest()}"
    assert abs(time.time() - int(timestamp)) < 300  # a receiver refuses stale timestamps (replays)
    assert not valid_signature("another secret", request.headers, request.body)
    body = request.json()
    assert body["event"] == "pre_departure_list" and body["delivery"] == str(d.key)
    assert body["list"]["reference"] == pdl.reference and body["list"]["unhcr_office"] == "UNHCR-AF-KBL"
    [entry] = body["list"]["entries"]
    assert set(entry) == {*ENTRY_FIELDS, "id", "late"}
    assert entry["unhcr_registration_number"] == "KBL-77" and entry["change"] == "new"
    assert "CANARY" not in request.body.decode()
    assert receiver.completed == [str(d.key)]
    d.refresh_from_db()
    assert d.status == DeliveryStatus.DONE and d.attempts == 1

    assert delivery.deliver(d.pk) == "skipped"
    assert len(receiver.received) == 1


def test_webhook_answering_500_is_retried_with_exponential_backoff_then_parked_then_retried_by_an_admin(
    world, receiver, settings, django_capture_on_commit_callbacks
):
    settings.DELIVERY_BACKOFF_SECONDS = 7
    settings.DELIVERY_MAX_ATTEMPTS = 4
    assert [delivery.backoff_seconds(n) for n in (1, 2, 3, 4)] == [7, 14, 28, 56]
    subscribe(world, receiver.url)
    receiver.answer_next(500, 500, 500, 500)
    pdl = build_list(world)
    d = list_delivery(pdl, Channel.WEBHOOK)
    assert d.max_attempts == 4
    for notice_mail in Delivery.objects.exclude(pk=d.pk):  # the UNHCR office's inbox e-mails: out of the way
        assert delivery.deliver(notice_mail.pk) == "done"

    for attempt in (1, 2, 3):
        before = timezone.now()
        assert delivery.deliver(d.pk) == "retry"
        after = timezone.now()
        d.refresh_from_db()
        assert (d.status, d.attempts, d.last_error) == (DeliveryStatus.PENDING, attempt, "DeliveryFailed: HTTP 500")
        wait = dt.timedelta(seconds=7 * 2 ** (attempt - 1))
        assert before + wait <= d.next_attempt_at <= after + wait
        # Not due yet: a duplicate message or a sweep does nothing.
        assert delivery.deliver(d.pk) == "skipped" and services.sweep() == 0
        assert len(receiver.received) == attempt
        make_due(d)

    assert delivery.deliver(d.pk) == "failed"
    d.refresh_from_db()
    assert (d.status, d.attempts, d.last_error) == (DeliveryStatus.FAILED, 4, "DeliveryFailed: HTTP 500")
    assert len(receiver.received) == 4 and {r.key for r in receiver.received} == {str(d.key)}
    assert receiver.completed == []
    assert services.sweep() == 0 and delivery.deliver(d.pk) == "skipped"  # parked: nothing retries it by itself

    # An administrator of an organisation the list concerns (UNHCR, receiving) sends it again; it leaves on commit.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        retried = services.delivery_retry(actor=world.unhcr_admin, delivery=d)
        assert retried.status == DeliveryStatus.PENDING and receiver.completed == []
    assert len(callbacks) == 1
    d.refresh_from_db()
    assert (d.status, d.attempts, d.last_error) == (DeliveryStatus.DONE, 5, "")
    assert receiver.completed == [str(d.key)]
    with pytest.raises(Conflict):
        services.delivery_retry(actor=world.iom_admin, delivery=d)  # delivered: nothing to retry


def test_backoff_doubles_from_the_setting_and_is_capped_below_the_visibility_timeout(settings):
    settings.DELIVERY_BACKOFF_SECONDS = 30
    assert [delivery.backoff_seconds(n) for n in range(1, 8)] == [30, 60, 120, 240, 480, 960, 1800]
    assert delivery.backoff_seconds(20) == 1800


def test_a_failed_notice_is_retried_by_an_administrator_of_the_recipients_organisation_only(
    world, settings, django_capture_on_commit_callbacks
):
    # The mail server refuses connections; each notice e-mail has one try.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 5
    settings.DELIVERY_MAX_ATTEMPTS = 1
    # MOU §31: UNHCR's early notice reaches IOM's counterpart office, so the notices concern IOM only.
    returns_services.operation_create(
        actor=world.unhcr_af_staff, office=world.unhcr_af, title="Return 2026", kind="organised", country_of_origin="AF"
    )
    d = Delivery.objects.get(notification__recipient=world.iom_af_staff)
    assert delivery.deliver(d.pk) == "failed"
    d.refresh_from_db()
    assert d.status == DeliveryStatus.FAILED and "ConnectionRefusedError" in d.last_error

    for outsider in (world.unhcr_admin, world.iom_af_manager):  # another organisation; not an administrator
        with pytest.raises(PermissionRefused) as refused:
            services.delivery_retry(actor=outsider, delivery=d)
        assert refused.value.status_code == 403
    d.refresh_from_db()
    assert d.status == DeliveryStatus.FAILED

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # the mail server is back
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_retry(actor=world.iom_admin, delivery=d)
    d.refresh_from_db()
    assert (d.status, d.attempts) == (DeliveryStatus.DONE, 2)
    [message] = mail.outbox
    assert message.to == [world.iom_af_staff.email] and message.extra_headers["Message-ID"] == f"<{d.key}@jointops>"


def test_a_receiver_that_never_answers_is_a_failed_attempt(world, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    with WebhookReceiver(hang=True) as silent:
        subscribe(world, silent.url)
        d = list_delivery(build_list(world), Channel.WEBHOOK)
        assert delivery.deliver(d.pk) == "retry"
        assert silent.held.is_set() and silent.completed == []
    d.refresh_from_db()
    assert d.status == DeliveryStatus.PENDING and d.attempts == 1
    assert "timed out" in d.last_error and d.next_attempt_at > timezone.now()


def test_revoked_or_expired_credentials_and_inactive_subscriptions_get_no_delivery(world, receiver, settings):
    revoked = subscribe(world, receiver.url, name="Revoked")
    jointops_services.api_client_revoke(actor=world.unhcr_admin, client=revoked.api_client)
    expired = subscribe(world, receiver.url, name="Expired", expires_at=timezone.now() + dt.timedelta(days=1))
    ApiClient.objects.filter(pk=expired.api_client_id).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    inactive = subscribe(world, receiver.url, name="Switched off")
    services.webhook_subscription_set_active(actor=world.unhcr_admin, subscription=inactive, is_active=False)
    live = subscribe(world, receiver.url, name="Live")
    settings.DELIVERY_MAX_ATTEMPTS = 2

    pdl = build_list(world)
    d = list_delivery(pdl, Channel.WEBHOOK)
    assert d.subscription == live  # and none for the three others

    # Revoked between the list and its delivery: nothing leaves, the failure is recorded, then parked.
    jointops_services.api_client_revoke(actor=world.unhcr_admin, client=live.api_client)
    assert delivery.deliver(d.pk) == "retry"
    make_due(d)
    assert delivery.deliver(d.pk) == "failed"
    d.refresh_from_db()
    assert d.status == DeliveryStatus.FAILED and "revoked" in d.last_error
    assert receiver.received == []


def test_a_subscription_switched_off_after_the_list_was_built_records_a_failure(world, receiver):
    live = subscribe(world, receiver.url)
    d = list_delivery(build_list(world), Channel.WEBHOOK)
    services.webhook_subscription_set_active(actor=world.unhcr_admin, subscription=live, is_active=False)
    assert delivery.deliver(d.pk) == "retry"
    d.refresh_from_db()
    assert d.status == DeliveryStatus.PENDING and "switched off" in d.last_error and receiver.received == []


# --- The sweeper ------------------------------------------------------------------------------------------------


def test_sweeper_takes_up_a_stale_sending_row_and_leaves_fresh_and_not_yet_due_rows(world, receiver, settings):
    settings.DELIVERY_STALE_SECONDS = 60
    office_contacts(world)
    subscribe(world, receiver.url)
    pdl = build_list(world)
    stale, fresh = list_delivery(pdl, Channel.WEBHOOK), list_delivery(pdl, Channel.EMAIL)
    later = Delivery.objects.filter(notification__pre_departure_list=pdl)
    assert later.count() == 2  # the UNHCR office's two members of staff
    # A worker claimed the webhook and died 61 seconds ago; another is sending the e-mail right now.
    assert delivery.claim(stale.pk) is not None and delivery.claim(fresh.pk) is not None
    Delivery.objects.filter(pk=stale.pk).update(started_at=timezone.now() - dt.timedelta(seconds=61))
    later.update(next_attempt_at=timezone.now() + dt.timedelta(hours=1))
    mail.outbox.clear()

    assert services.sweep() == 1

    stale.refresh_from_db()
    assert (stale.status, stale.attempts) == (DeliveryStatus.DONE, 2)
    assert receiver.completed == [str(stale.key)]
    fresh.refresh_from_db()
    assert (fresh.status, fresh.attempts) == (DeliveryStatus.SENDING, 1)
    assert list(later.values_list("status", "attempts")) == [(DeliveryStatus.PENDING, 0)] * 2
    assert mail.outbox == []
    assert services.sweep() == 0


def test_sweeper_sends_what_is_due(world):
    office_contacts(world)
    pdl = build_list(world)
    mail.outbox.clear()
    assert services.sweep() == 3  # the list e-mail and two notice e-mails, left pending (no commit in this test)
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DONE}
    assert len(mail.outbox) == 3
    assert services.sweep() == 0 and len(mail.outbox) == 3
    assert Notification.objects.filter(pre_departure_list=pdl).count() == 2


# --- The outbox: written in the list's transaction, dispatched after its commit -----------------------------------


def test_a_rolled_back_build_leaves_no_list_notice_or_delivery_and_dispatches_nothing(
    world, receiver, django_capture_on_commit_callbacks
):
    office_contacts(world)
    subscribe(world, receiver.url)
    scheduled(world.iom_af, world.iom_af_staff, days=10)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(DatabaseError),
        transaction.atomic(),
    ):
        [pdl] = services.pre_departure_lists_build(actor=None)
        assert Delivery.objects.filter(pre_departure_list=pdl).count() == 2  # written, not sent
        with connection.cursor() as cursor:  # what follows list_built in the same transaction fails
            cursor.execute("SELECT * FROM no_such_table_for_this_test")
    assert callbacks == []
    assert not PreDepartureList.objects.exists()
    assert not Delivery.objects.exists() and not Notification.objects.exists()
    assert receiver.received == [] and mail.outbox == []


def test_on_commit_the_deliveries_are_dispatched_and_delivered(world, receiver, django_capture_on_commit_callbacks):
    office_contacts(world)
    subscribe(world, receiver.url)
    scheduled(world.iom_af, world.iom_af_staff, days=10)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        [pdl] = services.pre_departure_lists_build(actor=None)
        # Inside the transaction: nothing has left yet.
        assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.PENDING}
        assert receiver.received == [] and mail.outbox == []
    assert callbacks  # list_built's dispatch (and the inbox notices' e-mails)
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DONE}
    assert receiver.completed == [str(list_delivery(pdl, Channel.WEBHOOK).key)]
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [LIST_ADDRESSES[0], world.unhcr_af_manager.email, world.unhcr_af_staff.email]
    )


# --- The broker is down when the transaction commits ------------------------------------------------------------

BUILD_WITH_BROKER_DOWN = """
import django

django.setup()
from notifications import services

[pdl] = services.pre_departure_lists_build(actor=None)
print("built", pdl.pk)
"""


@pytest.mark.django_db(transaction=True)
def test_broker_down_at_dispatch_loses_nothing_the_sweeper_delivers_later(world, receiver, tmp_path):
    """The build runs in a separate process whose broker is a closed port (the web server during a Redis outage):
    the commit stands, the dispatch fails quickly and quietly, the rows stay pending; the sweeper sends them."""
    from django.conf import settings

    office_contacts(world)
    subscribe(world, receiver.url)
    scheduled(world.iom_af, world.iom_af_staff, days=10)
    env = child_env(tmp_path, CELERY_BROKER_URL=f"redis://127.0.0.1:{closed_port()}/0")
    child = subprocess.run(
        [sys.executable, "-c", BUILD_WITH_BROKER_DOWN],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=DEADLINE_SECONDS,
    )
    assert child.returncode == 0, child.stderr
    pdl_id = int(child.stdout.split()[-1])
    # In each batch dispatched on commit (the inbox e-mails; the list's e-mail and webhook), one publish failed after
    # its retries and the rest were not attempted: the sweeper has them all.
    warnings = [line for line in child.stderr.splitlines() if "not dispatched (broker unavailable)" in line]
    assert sorted(int(line.split(" deliveries not dispatched")[0].rsplit(" ", 1)[-1]) for line in warnings) == [2, 2]
    rows = Delivery.objects.filter(pre_departure_list_id=pdl_id) | Delivery.objects.filter(
        notification__pre_departure_list_id=pdl_id
    )
    assert rows.count() == 4
    assert set(rows.values_list("status", "attempts")) == {(DeliveryStatus.PENDING, 0)}
    assert receiver.received == []

    mail.outbox.clear()
    assert services.sweep() == 4  # the beat's sweeper, once the broker is back

    assert set(rows.values_list("status", "attempts")) == {(DeliveryStatus.DONE, 1)}
    assert len(receiver.completed) == 1 and len(mail.outbox) == 3
    [processed] = receiver.processed.values()
    assert processed["list"]["entries"][0]["change"] == "new"
