"""Writes of the notifications app: building lists on demand, UNHCR's answers to a list (acknowledge, voluntariness
concern, record closed), the inbox, e-mail preferences, retrying a failed delivery. One transaction each, checked
by jointops.access, audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jointops import access
from jointops.audit import acting_as
from jointops.choices import IOM
from jointops.exceptions import Conflict, PermissionRefused, ValidationFailed
from jointops.models import Office, User
from jointops.services import acting_user, full_clean_or_fail
from notifications import listing, outbox
from notifications.choices import ChangeKind, DeliveryStatus, EmailPreference, NoticeKind, Trigger
from notifications.models import (
    Delivery,
    Notification,
    NotificationSettings,
    OfficeContact,
    OfficePair,
    PreDepartureEntry,
    PreDepartureList,
    WebhookSubscription,
)


def _client(actor: Any):
    return actor if getattr(actor, "is_api_client", False) else None


def pre_departure_lists_build(
    *, actor: Any, trigger: str = Trigger.SCHEDULE, iom_office: Office | None = None
) -> list[PreDepartureList]:
    """Build now: the daily beat (every office), or on demand for one IOM office. A field office without a
    counterpart of its own is covered by the office above it that has one: that office's list is built."""
    if actor is not None and iom_office is None:
        raise ValidationFailed(_("Choose the IOM office whose list to build."), field="office")
    if iom_office is not None:
        if iom_office.organisation.code != IOM:
            raise ValidationFailed(_("Pre-departure lists are sent by IOM offices (Letter)."), field="office")
        if actor is not None:
            access.require(actor, access.ADD, "pre_departure_list", office=iom_office)
        sender = listing.sending_offices().get(iom_office.pk)
        if sender is None:
            raise Conflict(
                _("This office has no UNHCR counterpart to send its list to: an administrator sets it on the office.")
            )
        iom_office = sender[0]
    return listing.build_lists(actor=actor, trigger=trigger, iom_office=iom_office)


def _unhcr_side(actor: Any, pdl: PreDepartureList) -> None:
    """Only the receiving UNHCR office answers a list (Letter: UNHCR reassures itself of voluntariness)."""
    if actor is None:
        return
    if getattr(actor, "organisation_id", None) != pdl.unhcr_office.organisation_id:
        raise PermissionRefused(_("Only the receiving UNHCR office answers a pre-departure list."))
    access.require(actor, access.CHANGE, "pre_departure_list", office=pdl.unhcr_office_id)


@transaction.atomic
def pre_departure_list_acknowledge(*, actor: Any, pdl: PreDepartureList) -> PreDepartureList:
    pdl = PreDepartureList.objects.select_for_update().select_related("unhcr_office").get(pk=pdl.pk)
    _unhcr_side(actor, pdl)
    if pdl.acknowledged_at:
        raise Conflict(_("This list was already acknowledged."))
    with acting_as(actor):
        pdl.acknowledged_at = timezone.now()
        pdl.acknowledged_by = acting_user(actor)
        pdl.acknowledged_by_client = _client(actor)
        pdl.save()
    return pdl


def _lock_entry(actor: Any, entry: PreDepartureEntry) -> PreDepartureEntry:
    entry = PreDepartureEntry.objects.select_for_update().select_related("list__unhcr_office", "case").get(pk=entry.pk)
    _unhcr_side(actor, entry.list)
    return entry


@transaction.atomic
def entry_record_concern(*, actor: Any, entry: PreDepartureEntry, concern: str) -> PreDepartureEntry:
    """Letter: UNHCR "reassures itself of voluntariness". A concern reaches the IOM case owner at once."""
    entry = _lock_entry(actor, entry)
    concern = (concern or "").strip() if isinstance(concern, str) else ""
    if not concern:
        raise ValidationFailed(_("Describe the concern."), field="concern")
    if len(concern) > 4000:
        raise ValidationFailed(_("Ensure this value has at most %(max)d characters.") % {"max": 4000}, field="concern")
    if entry.concern:
        raise Conflict(_("A concern was already recorded on this entry."))
    with acting_as(actor):
        entry.concern = concern
        entry.concern_at = timezone.now()
        entry.concern_by = acting_user(actor)
        entry.save()
        case = entry.case
        owners = [case.created_by] if case.created_by and case.created_by.is_active else []
        owners = owners or list(outbox.office_staff([case.lead_office_id], roles=["office_manager"]))
        outbox.notify(
            users=owners,
            kind=NoticeKind.VOLUNTARINESS_CONCERN,
            # The case reference only: the IOM case owner knows who is on their case.
            title=_("UNHCR raised a voluntariness concern on case %(reference)s") % {"reference": case.reference},
            body=concern,
            url=case.get_absolute_url(),
            at_once=True,
        )
    return entry


@transaction.atomic
def entry_close_record(*, actor: Any, entry: PreDepartureEntry) -> PreDepartureEntry:
    """Letter: once departure is confirmed, UNHCR "closes its records"."""
    entry = _lock_entry(actor, entry)
    if entry.change != ChangeKind.EMBARKED:
        raise Conflict(_("Close the record once the list confirms the embarkation (Letter)."))
    if entry.record_closed_at:
        raise Conflict(_("The record was already closed."))
    with acting_as(actor):
        entry.record_closed_at = timezone.now()
        entry.record_closed_by = acting_user(actor)
        entry.save()
    return entry


# --- Inbox and preferences --------------------------------------------------------------------------------------


def notification_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    """Mark the user's notices read (all unread when `ids` is None). Returns how many changed."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


def notification_settings_set(*, user: User, email_preference: str) -> NotificationSettings:
    if email_preference not in EmailPreference.values:
        raise ValidationFailed(_("Choose how to receive e-mails."), field="email_preference")
    settings_row, _created = NotificationSettings.objects.update_or_create(
        user=user, defaults={"email_preference": email_preference}
    )
    return settings_row


@transaction.atomic
def digests_queue() -> int:
    """Daily: one e-mail per person who chose the digest, with the notices not e-mailed yet."""
    queued = []
    pending = (
        Notification.objects.select_for_update()
        .filter(
            emailed_at__isnull=True,
            read_at__isnull=True,  # what was read in the app needs no e-mail
            recipient__notification_settings__email_preference=EmailPreference.DIGEST,
        )
        .exclude(recipient__email="")
        .select_related("recipient")
    )
    by_user: dict[int, list[Notification]] = {}
    for notice in pending:
        by_user.setdefault(notice.recipient_id, []).append(notice)
    now = timezone.now()
    for notices in by_user.values():
        user = notices[0].recipient
        queued.append(
            outbox.new_delivery(
                channel="email",
                digest_for=user,
                recipients=user.email,
                payload={"notification_ids": [n.pk for n in notices]},
            )
        )
        Notification.objects.filter(pk__in=[n.pk for n in notices]).update(emailed_at=now)
    outbox.dispatch_on_commit(queued)
    return len(queued)


# --- Deliveries (administrators) ------------------------------------------------------------------------------


def _delivery_organisation_ids(delivery: Delivery) -> set[int]:
    if delivery.pre_departure_list_id:
        pdl = delivery.pre_departure_list
        return {pdl.iom_office.organisation_id, pdl.unhcr_office.organisation_id}
    user = delivery.digest_for or (delivery.notification.recipient if delivery.notification else None)
    return {user.organisation_id} if user and user.organisation_id else set()


@transaction.atomic
def delivery_retry(*, actor: Any, delivery: Delivery) -> Delivery:
    """An administrator sends a parked (failed) delivery again, with a fresh set of attempts."""
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if actor is not None and not any(access.administers(actor, org) for org in _delivery_organisation_ids(delivery)):
        raise PermissionRefused()
    if delivery.status != DeliveryStatus.FAILED:
        raise Conflict(_("Only a failed delivery is retried by hand; the others are retried automatically."))
    delivery.status = DeliveryStatus.PENDING
    delivery.max_attempts = delivery.attempts + (delivery.max_attempts or 1)
    delivery.next_attempt_at = timezone.now()
    delivery.save()
    outbox.dispatch_on_commit([delivery])
    return delivery


def sweep() -> int:
    """Dispatch every delivery that is due (pending and due, or left sending by a worker that died)."""
    from notifications.delivery import due

    ids = list(Delivery.objects.filter(due()).order_by("next_attempt_at").values_list("pk", flat=True)[:500])
    outbox.dispatch(ids)
    return len(ids)


# --- Configuration by administrators: addresses, lead times, webhooks ------------------------------------------


def _administer_office(actor: Any, office: Office) -> None:
    if actor is not None and not access.administers(actor, office.organisation_id):
        raise PermissionRefused()


@transaction.atomic
def office_contact_add(*, actor: Any, office: Office, email: str) -> OfficeContact:
    """An address where `office` receives its notices by e-mail (a UNHCR office: its pre-departure lists)."""
    _administer_office(actor, office)
    contact = OfficeContact(office=office, email=(email or "").strip().lower())
    full_clean_or_fail(contact)
    with acting_as(actor):
        contact.save()
    return contact


@transaction.atomic
def office_contact_remove(*, actor: Any, contact: OfficeContact) -> None:
    _administer_office(actor, contact.office)
    with acting_as(actor):
        contact.delete()


@transaction.atomic
def office_pair_set_lead_time(*, actor: Any, iom_office: Office, lead_time_days: int) -> OfficePair:
    """The lead time of an IOM office and its counterpart (Letter: "in a timely way"); set by IOM's administrators."""
    _administer_office(actor, iom_office)
    if iom_office.organisation.code != IOM or iom_office.counterpart_id is None:
        raise ValidationFailed(_("Choose an IOM office with a UNHCR counterpart."), field="iom_office")
    pair = OfficePair.objects.filter(iom_office=iom_office, unhcr_office_id=iom_office.counterpart_id).first()
    pair = pair or OfficePair(iom_office=iom_office, unhcr_office_id=iom_office.counterpart_id)
    pair.lead_time_days = lead_time_days
    full_clean_or_fail(pair, validate_unique=False)
    with acting_as(actor):
        pair.save()
    return pair


def _check_webhook_url(url: str) -> str:
    from urllib.parse import urlparse

    from django.conf import settings

    url = (url or "").strip()
    parsed = urlparse(url)
    local = parsed.hostname in ("127.0.0.1", "localhost", "::1")
    if parsed.scheme != "https" and not (parsed.scheme == "http" and (local or settings.DEBUG)):
        raise ValidationFailed(_("Use an https:// address (the lists carry people's names)."), field="url")
    if not parsed.hostname or len(url) > 500:
        raise ValidationFailed(_("Enter a valid address."), field="url")
    return url


@transaction.atomic
def webhook_subscription_create(*, actor: Any, api_client, url: str) -> WebhookSubscription:
    """Subscribe a partner system to the lists of the offices its credentials cover. Its signing secret is shown
    once, on creation; the partner verifies each body's HMAC-SHA256 with it."""
    if actor is not None and not access.administers(actor, api_client.organisation_id):
        raise PermissionRefused()
    subscription = WebhookSubscription(api_client=api_client, url=_check_webhook_url(url))
    with acting_as(actor):
        subscription.save()
    return subscription


@transaction.atomic
def webhook_subscription_set_active(*, actor: Any, subscription: WebhookSubscription, is_active: bool):
    if actor is not None and not access.administers(actor, subscription.api_client.organisation_id):
        raise PermissionRefused()
    with acting_as(actor):
        subscription.is_active = is_active
        subscription.save()
    return subscription
