"""Sending one outbox row: claim it, send it, mark it — so that each message leaves once.

- `claim` takes a due row (pending and due, or left "sending" by a worker that died more than
  DELIVERY_STALE_SECONDS ago) under a row lock, marks it sending and counts the attempt, and commits.
- The message then leaves (SMTP through Django's e-mail backend, or an HTTP POST), outside any transaction.
- `_finish` marks it done only if it is still this attempt's (a compare-and-set on status and attempt number).
- A failure schedules the next attempt with exponential backoff, or parks the row as failed after the last one.

A message carries its delivery key (e-mail Message-ID, webhook `Idempotency-Key`): should a worker die after the
receiver got it but before the row was marked done, the re-sent copy carries the same key, and the receiver can
tell (the receiver in the tests keeps each key once).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.choices import Channel, DeliveryStatus
from notifications.models import Delivery

logger = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """The outside world refused or did not answer (an SMTP error, a webhook answering non-2xx or timing out)."""


def backoff_seconds(attempt: int) -> int:
    """Seconds before attempt `attempt + 1`: base × 2^(attempt-1), at most 30 minutes (below the broker's
    visibility timeout, so that a countdown never outlives it)."""
    return min(settings.DELIVERY_BACKOFF_SECONDS * 2 ** max(attempt - 1, 0), 1800)


def due() -> Q:
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.DELIVERY_STALE_SECONDS)
    return Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=DeliveryStatus.SENDING, started_at__lt=stale
    )


def claim(delivery_id: int) -> Delivery | None:
    with transaction.atomic():
        # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of the outer joins select_related makes.
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(due(), pk=delivery_id)
            .select_related("pre_departure_list", "notification", "subscription", "digest_for")
            .first()
        )
        if delivery is None:
            return None
        delivery.status = DeliveryStatus.SENDING
        delivery.attempts += 1
        delivery.started_at = timezone.now()
        delivery.save(update_fields=["status", "attempts", "started_at"])
    return delivery


def deliver(delivery_id: int) -> str:
    """Send one delivery if it is due: 'done', 'retry', 'failed' or 'skipped' (not due, or done already)."""
    delivery = claim(delivery_id)
    if delivery is None:
        return "skipped"
    try:
        send(delivery)
    except Exception as exc:  # whatever the outside world did, the row records it and is retried or parked
        return _fail(delivery, exc)
    _finish(delivery)
    return "done"


def _finish(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING, attempts=delivery.attempts).update(
        status=DeliveryStatus.DONE, done_at=timezone.now(), last_error=""
    )


def _fail(delivery: Delivery, exc: Exception) -> str:
    message = f"{type(exc).__name__}: {exc}"[:2000]
    logger.warning("delivery %s attempt %s failed: %s", delivery.pk, delivery.attempts, message)
    if delivery.attempts >= delivery.max_attempts:
        status, next_at, outcome = DeliveryStatus.FAILED, delivery.next_attempt_at, "failed"
    else:
        wait = backoff_seconds(delivery.attempts)
        status, next_at, outcome = DeliveryStatus.PENDING, timezone.now() + dt.timedelta(seconds=wait), "retry"
    updated = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING, attempts=delivery.attempts).update(
        status=status, next_attempt_at=next_at, last_error=message
    )
    if updated and outcome == "retry":
        from notifications.tasks import deliver_task

        try:
            deliver_task.apply_async((delivery.pk,), countdown=backoff_seconds(delivery.attempts))
        except Exception:  # broker down: the sweeper dispatches it when due
            logger.warning("retry of delivery %s not scheduled; the sweeper will pick it up", delivery.pk)
    return outcome


# --- The two channels -------------------------------------------------------------------------------------------


def send(delivery: Delivery) -> None:
    if delivery.channel == Channel.WEBHOOK:
        _post_webhook(delivery)
    else:
        _send_email(delivery)


def _send_email(delivery: Delivery) -> None:
    from notifications import documents

    recipients = [a.strip() for a in delivery.recipients.split(",") if a.strip()]
    if delivery.pre_departure_list_id:
        pdl = delivery.pre_departure_list
        subject, body = documents.list_email_text(pdl)
        attachments = [
            (f"{pdl.reference}.csv", documents.list_csv(pdl), "text/csv"),
            (f"{pdl.reference}.pdf", documents.list_pdf(pdl), "application/pdf"),
        ]
    elif delivery.digest_for_id:
        subject, body = documents.digest_text(delivery.digest_for, delivery.payload.get("notification_ids", []))
        attachments = []
    else:
        notice = delivery.notification
        if notice is None:
            raise DeliveryFailed(_("The notice was deleted before it could be sent."))
        subject, body = notice.title, documents.notice_text(notice)
        attachments = []
    message = EmailMessage(
        subject=subject,
        body=body,
        to=recipients,
        headers={"Message-ID": f"<{delivery.key}@jointops>", "X-Jointops-Delivery": str(delivery.key)},
    )
    for name, content, mimetype in attachments:
        message.attach(name, content, mimetype)
    message.send(fail_silently=False)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over `<timestamp>.<body>`: the receiver recomputes it with the shared secret and rejects old
    timestamps (replays)."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _post_webhook(delivery: Delivery) -> None:
    from notifications import documents

    subscription = delivery.subscription
    if subscription is None or not subscription.is_active or not subscription.api_client.is_usable:
        raise DeliveryFailed(_("The subscription was switched off or its credentials revoked."))
    body = json.dumps(
        {
            "event": "pre_departure_list",
            "delivery": str(delivery.key),
            "list": documents.list_payload(delivery.pre_departure_list),
        },
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        subscription.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "jointops-webhook/1",
            "Idempotency-Key": str(delivery.key),
            "X-Jointops-Timestamp": timestamp,
            "X-Jointops-Signature": f"sha256={signature(subscription.secret, timestamp, body)}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
            if not 200 <= response.status < 300:
                raise DeliveryFailed(f"HTTP {response.status}")
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(f"HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DeliveryFailed(str(getattr(exc, "reason", exc))) from None
