"""Audit trail and access log helpers, called by services.

- Change history: every domain model declares `history = history_records()` (django-simple-history). The
  acting principal (a user, a partner API client, or None for the system) is set by the service with
  `acting_as(actor)`; each historical row records it (`history_user` / `history_api_client`).
- Access log: `log_access(...)` writes an append-only row for each read of a person's record, export or
  list download. Ids only, never personal data. `log_names_read(...)` is its form for pages that show people's names.
- Alert on bulk reading (Issue 8): after a read of person records commits, `access_alert_check` sums the account's
  last hour; past ACCESS_ALERT_RECORDS_PER_HOUR it records an AccessAlert and alerts the organisation's
  administrators (inbox and e-mail, through the notifications outbox), once per account and hour.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

logger = logging.getLogger(__name__)

_actor: ContextVar[Any] = ContextVar("jointops_actor", default=None)

# Issue 8 (accountability): the access-log resources whose records are people. The bulk-reading alert counts the
# records of these rows (`record_count`). Reads of names anywhere (a case's members, a pre-departure list's entries, a
# household's members) are logged as "beneficiary" with the people's ids; the others are kept for callers that log
# the container itself.
PERSON_RESOURCES = frozenset({"beneficiary", "household", "return_case", "pre_departure_entry"})
ALERT_WINDOW = dt.timedelta(hours=1)
# The inbox kind of the alert: notifications.choices.NoticeKind.ACCESS_ALERT (a test checks they agree).
ACCESS_ALERT_NOTICE_KIND = "access_alert"


@contextmanager
def acting_as(actor: Any) -> Iterator[None]:
    """Within the block, history rows record `actor` (a User, an ApiClient, or None for the system)."""
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def current_actor() -> Any:
    return _actor.get()


def _history_user(instance=None, request=None, **kwargs):
    actor = _actor.get()
    if actor is not None and not getattr(actor, "is_api_client", False) and getattr(actor, "pk", None):
        return actor
    return None


class HistoricalActorMixin(models.Model):
    """Extra column on every historical table: the partner system that made the change, if any."""

    history_api_client = models.ForeignKey(
        "jointops.ApiClient",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )

    class Meta:
        abstract = True


def history_records(**kwargs) -> HistoricalRecords:
    kwargs.setdefault("bases", [HistoricalActorMixin])
    kwargs.setdefault("get_user", _history_user)
    return HistoricalRecords(**kwargs)


def _fill_api_client(sender, history_instance=None, **kwargs):
    actor = _actor.get()
    if history_instance is not None and getattr(actor, "is_api_client", False):
        history_instance.history_api_client = actor


pre_create_historical_record.connect(_fill_api_client, dispatch_uid="jointops_history_api_client")


def log_access(
    *,
    actor: Any,
    action: str,
    resource: str,
    object_ids: Iterable[Any] = (),
    purpose: str = "",
    path: str = "",
    record_count: int | None = None,
):
    """Append one access-log row. `actor` is a User or an ApiClient. Stores ids only."""
    from jointops.models import AccessLog

    ids = [str(i) for i in object_ids]
    is_client = getattr(actor, "is_api_client", False)
    entry = AccessLog.objects.create(
        user=None if is_client or actor is None or not getattr(actor, "pk", None) else actor,
        api_client=actor if is_client else None,
        action=action,
        resource=resource,
        object_ids=ids,
        record_count=len(ids) if record_count is None else record_count,
        purpose=purpose[:200],
        path=path[:500],
    )
    if entry.resource in PERSON_RESOURCES and entry.record_count and (entry.user_id or entry.api_client_id):
        # Issue 8: the bulk-reading check runs once the read is committed (a read that rolls back read nothing), and
        # `robust`: whatever happens to the alert, the read itself has already succeeded.
        check = functools.partial(access_alert_check, user_id=entry.user_id, api_client_id=entry.api_client_id)
        transaction.on_commit(check, robust=True)
    return entry


def log_names_read(request: Any, people: Iterable[Any], *, purpose: str, action: str = "view") -> None:
    """A page showed these people's names (Issue 8: every read of a person is logged): one access-log row with their
    ids (people or ids, in the order shown, once each), resource "beneficiary". Nothing when it showed none."""
    ids = list(dict.fromkeys(getattr(person, "pk", person) for person in people if person is not None))
    if ids:
        log_access(
            actor=request.user,
            action=action,
            resource="beneficiary",
            object_ids=ids,
            purpose=purpose,
            path=request.path,
        )


# --- Issue 8: alert on bulk reading ------------------------------------------------------------------------------


def person_records_read(*, user_id: int | None = None, api_client_id: int | None = None, since: dt.datetime) -> int:
    """Person records one account read or exported since `since` (one SUM on the accesslog_user_at /
    accesslog_client_at index)."""
    from jointops.models import AccessLog

    account = {"user_id": user_id} if user_id else {"api_client_id": api_client_id}
    rows = AccessLog.objects.filter(**account, at__gte=since, resource__in=PERSON_RESOURCES)
    return rows.aggregate(total=Sum("record_count"))["total"] or 0


def access_alert_check(*, user_id: int | None = None, api_client_id: int | None = None):
    """Issue 8: when the account read or exported more than ACCESS_ALERT_RECORDS_PER_HOUR person records within the
    last hour, record an AccessAlert and alert the administrators of its organisation — once per account and hour.

    Returns the new alert, or None. Cheap when under the limit: one SUM. The alert row, the inbox notices and their
    e-mails (outbox rows) commit together; the e-mails are dispatched after that commit."""
    from jointops.models import AccessAlert, ApiClient, User

    if not (user_id or api_client_id):
        return None
    threshold = settings.ACCESS_ALERT_RECORDS_PER_HOUR
    now = timezone.now()
    since = now - ALERT_WINDOW
    total = person_records_read(user_id=user_id, api_client_id=api_client_id, since=since)
    if total <= threshold:
        return None
    account_filter = {"user_id": user_id} if user_id else {"api_client_id": api_client_id}
    if AccessAlert.objects.filter(**account_filter, created_at__gt=since).exists():
        return None  # alerted within the hour already
    model = User if user_id else ApiClient
    account = model.objects.filter(pk=user_id or api_client_id).first()
    if account is None:
        return None
    try:
        with transaction.atomic():
            alert = AccessAlert.objects.create(
                **account_filter,
                organisation_id=account.organisation_id,
                window_start=now.replace(minute=0, second=0, microsecond=0),
                counted_since=since,
                counted_until=now,
                record_count=total,
                threshold=threshold,
            )
            _alert_administrators(alert, account)
    except IntegrityError:
        return None  # a concurrent read of the same account alerted for this hour (the unique constraints)
    logger.warning(
        "access alert %s: %s %s read %d person records within an hour (limit %d)",
        alert.pk,
        "user" if user_id else "partner system",
        user_id or api_client_id,
        total,
        threshold,
    )
    return alert


def access_alert_url(alert) -> str:
    """The access log filtered to the account and the hour the alert counted."""
    params = {"user": alert.user.username} if alert.user_id else {"api_client": alert.api_client_id}
    params["since"] = timezone.localtime(alert.counted_since).strftime("%Y-%m-%dT%H:%M")
    return reverse("jointops:access_log_list") + "?" + urlencode(params)


def account_label(account) -> str:
    """How an alert names the account: a staff account's user name, or a partner system's name — never a person of
    concern."""
    if getattr(account, "is_api_client", False):
        return _("partner system %(name)s") % {"name": account.name}
    return _("user %(username)s") % {"username": account.get_username()}


def _alert_administrators(alert, account) -> None:
    """An inbox notice and an e-mail for each active administrator of the account's organisation (security alerts are
    e-mailed whatever the recipient's e-mail preference), through the notifications outbox."""
    from jointops.choices import Role
    from jointops.models import User
    from notifications import outbox
    from notifications.choices import Channel

    if not alert.organisation_id:
        return  # an account of no organisation (a superuser): the alert shows on the access-log page only
    administrators = User.objects.filter(
        is_active=True,
        memberships__role=Role.ADMINISTRATOR,
        memberships__office__organisation_id=alert.organisation_id,
    ).distinct()
    with translation.override(settings.LANGUAGE_CODE):
        values = {
            "account": account_label(account),
            "count": alert.record_count,
            "limit": alert.threshold,
            "since": timezone.localtime(alert.counted_since).strftime("%Y-%m-%d %H:%M"),
            "until": timezone.localtime(alert.counted_until).strftime("%H:%M %Z"),
        }
        title = _("Access alert: %(account)s read %(count)d person records within an hour") % values
        body = (
            _(
                "Between %(since)s and %(until)s, %(account)s read or exported %(count)d person records, more than the "
                "limit of %(limit)d per hour (ACCESS_ALERT_RECORDS_PER_HOUR). Review these reads in the access log."
            )
            % values
        )
    notices = outbox.notify(
        users=administrators,
        kind=ACCESS_ALERT_NOTICE_KIND,
        title=title,
        body=body,
        url=access_alert_url(alert),
        at_once=True,
    )
    deliveries = []
    for notice in notices:
        if notice.emailed_at is None and notice.recipient.email:
            deliveries.append(
                outbox.new_delivery(channel=Channel.EMAIL, notification=notice, recipients=notice.recipient.email)
            )
            notice.emailed_at = timezone.now()
            notice.save(update_fields=["emailed_at"])
    outbox.dispatch_on_commit(deliveries)
