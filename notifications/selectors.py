"""Reads of the notifications app, scoped by jointops.access: lists for their two offices (and the offices above,
HQ focal points), the inbox for its owner only, deliveries for administrators of the organisations concerned."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from jointops import access
from jointops.selectors import get_or_404
from notifications.models import Delivery, Notification, PreDepartureEntry, PreDepartureList


def pre_departure_list_qs_for(*, principal: Any, action: str = access.VIEW) -> QuerySet[PreDepartureList]:
    entries = PreDepartureEntry.objects.order_by("expected_departure_date", "family_name", "given_name", "pk")
    return (
        PreDepartureList.objects.visible_to(principal, action)
        .select_related("iom_office", "unhcr_office", "acknowledged_by")
        .annotate(
            entry_count=Count("entries", distinct=True),
            late_count=Count("entries", filter=Q(entries__is_late=True), distinct=True),
        )
        .prefetch_related(Prefetch("entries", entries))
        .order_by("-created_at", "-pk")  # the counts drop the model's default ordering
    )


def pre_departure_list_get_for_user(*, principal: Any, pk: Any, action: str = access.VIEW) -> PreDepartureList:
    return get_or_404(pre_departure_list_qs_for(principal=principal, action=action), pk)


def pre_departure_list_get_for_download(*, principal: Any, pk: Any) -> PreDepartureList:
    """The list of a CSV or PDF download: the same access rule as the page (`visible_to`, read), without the counts
    and the entries' prefetch — the file reads its entries itself, in one query of their allow-listed fields
    (notifications.documents)."""
    lists = PreDepartureList.objects.visible_to(principal, access.VIEW).select_related("iom_office", "unhcr_office")
    return get_or_404(lists, pk)


def entry_get_for_user(*, principal: Any, pdl: PreDepartureList, pk: Any) -> PreDepartureEntry:
    return get_or_404(pdl.entries.all(), pk)


def inbox_qs_for(*, user: Any) -> QuerySet[Notification]:
    if getattr(user, "is_api_client", False) or not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user)


def unread_count(*, user: Any) -> int:
    return inbox_qs_for(user=user).filter(read_at__isnull=True).count()


def delivery_qs_for(*, principal: Any) -> QuerySet[Delivery]:
    """Deliveries concerning the administrator's organisation: lists from or to its offices, notices to its staff."""
    base = Delivery.objects.select_related(
        "pre_departure_list__iom_office",
        "pre_departure_list__unhcr_office",
        "subscription__api_client",
        "notification__recipient",
        "digest_for",
    )
    if getattr(principal, "is_superuser", False):
        return base
    if getattr(principal, "is_api_client", False) or not access.can(principal, access.VIEW, "delivery"):
        return base.none()
    org = principal.organisation_id
    return base.filter(
        Q(pre_departure_list__iom_office__organisation_id=org)
        | Q(pre_departure_list__unhcr_office__organisation_id=org)
        | Q(notification__recipient__organisation_id=org)
        | Q(digest_for__organisation_id=org)
    )


def delivery_get_for_user(*, principal: Any, pk: Any) -> Delivery:
    return get_or_404(delivery_qs_for(principal=principal), pk)
