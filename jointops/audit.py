"""Audit trail and access log helpers, called by services.

- Change history: every domain model declares `history = history_records()` (django-simple-history). The
  acting principal (a user, a partner API client, or None for the system) is set by the service with
  `acting_as(actor)`; each historical row records it (`history_user` / `history_api_client`).
- Access log: `log_access(...)` writes an append-only row for each read of a person's record, export or
  list download. Ids only, never personal data.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import models
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

_actor: ContextVar[Any] = ContextVar("jointops_actor", default=None)


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
    return AccessLog.objects.create(
        user=None if is_client or actor is None or not getattr(actor, "pk", None) else actor,
        api_client=actor if is_client else None,
        action=action,
        resource=resource,
        object_ids=ids,
        record_count=len(ids) if record_count is None else record_count,
        purpose=purpose[:200],
        path=path[:500],
    )
