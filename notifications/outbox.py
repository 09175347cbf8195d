"""Writing notices: inbox items and outbox rows, in the caller's transaction; dispatch only after it commits.

Nothing is sent from inside a transaction (ARCHITECTURE: side effects only after commit). If the broker is down when
the transaction commits, the rows wait: the sweeper (notifications.tasks.deliveries_sweep_task) dispatches every
pending delivery that is due.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jointops import access
from jointops.choices import Role
from jointops.models import User
from notifications.choices import Channel, EmailPreference, NoticeKind
from notifications.models import Delivery, Notification, NotificationSettings, OfficeContact, WebhookSubscription

logger = logging.getLogger(__name__)


def email_preference(user: User) -> str:
    found = NotificationSettings.objects.filter(user=user).values_list("email_preference", flat=True).first()
    return found or EmailPreference.INSTANT


def new_delivery(**fields) -> Delivery:
    fields.setdefault("max_attempts", settings.DELIVERY_MAX_ATTEMPTS)
    fields.setdefault("next_attempt_at", timezone.now())
    return Delivery.objects.create(**fields)


def dispatch_on_commit(deliveries: Iterable[Delivery]) -> None:
    ids = [d.pk for d in deliveries]
    if ids:
        transaction.on_commit(lambda: dispatch(ids))


def dispatch(ids: list[int]) -> None:
    """Hand deliveries to Celery. A broker that is down loses nothing: the sweeper retries the rows. Each publish is
    retried already (CELERY_TASK_PUBLISH_RETRY_POLICY), so after one failure the rest are left to the sweeper too:
    a web request does not wait for the broker once per delivery."""
    from notifications.tasks import deliver_task

    for index, pk in enumerate(ids):
        try:
            deliver_task.delay(pk)
        except Exception:  # the broker is out of reach; the delivery rows are still pending
            logger.warning(
                "%d deliveries not dispatched (broker unavailable), from delivery %s; the sweeper will retry",
                len(ids) - index,
                pk,
            )
            return


def notify(
    *,
    users: Iterable[User],
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    pre_departure_list=None,
    at_once: bool = False,
) -> list[Notification]:
    """Inbox items for `users`, and an e-mail to each who chose instant e-mails (`at_once`: also to those who chose
    the daily digest — a voluntariness concern cannot wait a day)."""
    notices, deliveries = [], []
    recipients = {u.pk: u for u in users if u.is_active}
    preferences = dict(
        NotificationSettings.objects.filter(user_id__in=recipients).values_list("user_id", "email_preference")
    )  # one query for all recipients
    for user in recipients.values():
        notice = Notification.objects.create(
            recipient=user, kind=kind, title=title[:300], body=body, url=url, pre_departure_list=pre_departure_list
        )
        notices.append(notice)
        preference = preferences.get(user.pk, EmailPreference.INSTANT)
        wants_now = preference == EmailPreference.INSTANT or (at_once and preference == EmailPreference.DIGEST)
        if user.email and wants_now:
            deliveries.append(new_delivery(channel=Channel.EMAIL, notification=notice, recipients=user.email))
            notice.emailed_at = timezone.now()
            notice.save(update_fields=["emailed_at"])
    dispatch_on_commit(deliveries)
    return notices


def office_staff(office_ids: Iterable[int], roles: Iterable[str] = (Role.FIELD_STAFF, Role.OFFICE_MANAGER)):
    return User.objects.filter(
        is_active=True, memberships__office_id__in=list(office_ids), memberships__role__in=list(roles)
    ).distinct()


def hq_focal_points(organisation_ids: Iterable[int]):
    return User.objects.filter(
        is_active=True,
        memberships__role=Role.HQ_FOCAL_POINT,
        memberships__office__organisation_id__in=list(organisation_ids),
    ).distinct()


def list_built(pdl) -> None:
    """A new pre-departure list: the UNHCR office's inbox, its notification addresses, subscribed partner systems."""
    count = pdl.entries.count()
    late = pdl.entries.filter(is_late=True).count()
    title = _("Pre-departure list %(reference)s from %(office)s: %(count)d entries") % {
        "reference": pdl.reference,
        "office": pdl.iom_office.code,
        "count": count,
    }
    body = (
        _("%(late)d of them reached you later than the agreed lead time of %(days)d days.")
        % {
            "late": late,
            "days": pdl.lead_time_days,
        }
        if late
        else ""
    )
    notify(
        users=office_staff([pdl.unhcr_office_id]),
        kind=NoticeKind.PRE_DEPARTURE_LIST,
        title=title,
        body=body,
        url=pdl.get_absolute_url(),
        pre_departure_list=pdl,
    )
    deliveries = []
    addresses = list(
        OfficeContact.objects.filter(office=pdl.unhcr_office, is_active=True).values_list("email", flat=True)
    )
    if addresses:
        deliveries.append(new_delivery(channel=Channel.EMAIL, pre_departure_list=pdl, recipients=", ".join(addresses)))
    for subscription in WebhookSubscription.objects.filter(is_active=True).select_related("api_client"):
        client = subscription.api_client
        if client.is_usable and access.can(client, access.VIEW, "pre_departure_list", office=pdl.unhcr_office_id):
            deliveries.append(new_delivery(channel=Channel.WEBHOOK, pre_departure_list=pdl, subscription=subscription))
    dispatch_on_commit(deliveries)
