"""Reads of the shared records (organisations, offices, staff, API clients, access log), scoped by `access`."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from jointops import access
from jointops.models import AccessAlert, AccessLog, ApiClient, Membership, Office, Organisation, User


def get_or_404(qs: QuerySet, pk: Any):
    try:
        return qs.get(pk=pk)
    except (qs.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def organisation_qs_for(*, principal: Any) -> QuerySet[Organisation]:
    if not access.can(principal, access.VIEW, "organisation"):
        return Organisation.objects.none()
    return Organisation.objects.all()


def office_qs_for(*, principal: Any) -> QuerySet[Office]:
    """The office directory: readable by all staff and partner systems with the offices scope."""
    if not access.can(principal, access.VIEW, "office"):
        return Office.objects.none()
    return Office.objects.select_related("organisation", "parent", "counterpart")


def office_get_for_user(*, principal: Any, pk: Any) -> Office:
    return get_or_404(office_qs_for(principal=principal), pk)


def office_changeable_qs_for(*, principal: Any) -> QuerySet[Office]:
    return access.restrict(Office.objects.all(), principal, "office", access.CHANGE, office_field="pk")


def user_qs_for(*, principal: Any, action: str = access.VIEW) -> QuerySet[User]:
    """Staff the principal may see: members of the offices its role covers; administrators see their organisation."""
    ids = access.office_ids(principal, "user", action)
    qs = User.objects.select_related("organisation")
    if ids is access.EVERYTHING:
        return qs
    if not ids:
        return qs.none()
    condition = Q(memberships__office_id__in=ids)
    if access.ADMIN in access.MATRIX["user"].get(action, ()) and access.ADMIN in access.roles(principal):
        # Administrators manage every account of their organisation, including those holding no office yet.
        condition |= Q(organisation_id=principal.organisation_id)
    return qs.filter(pk__in=User.objects.filter(condition).values("pk"))


def user_get_for_user(*, principal: Any, pk: Any, action: str = access.VIEW) -> User:
    return get_or_404(user_qs_for(principal=principal, action=action), pk)


def user_with_memberships_qs_for(*, principal: Any, action: str = access.VIEW) -> QuerySet[User]:
    """user_qs_for() with each user's memberships and their offices fetched in one more query (lists, API)."""
    memberships = Membership.objects.select_related("office").order_by("office__code")
    return user_qs_for(principal=principal, action=action).prefetch_related(Prefetch("memberships", memberships))


def membership_qs_for_user(*, user: User) -> QuerySet[Membership]:
    return user.memberships.select_related("office", "office__organisation")


def api_client_qs_for(*, principal: Any, action: str = access.VIEW) -> QuerySet[ApiClient]:
    qs = ApiClient.objects.select_related("organisation", "office", "created_by")
    return access.restrict(qs, principal, "api_client", action)


def api_client_get_for_user(*, principal: Any, pk: Any, action: str = access.VIEW) -> ApiClient:
    return get_or_404(api_client_qs_for(principal=principal, action=action), pk)


def access_log_qs_for(*, principal: Any) -> QuerySet[AccessLog]:
    """Administrators and HQ focal points see the entries of their organisation's staff and partner systems;
    superusers see every entry (Issue 8: accountability)."""
    qs = AccessLog.objects.select_related("user", "api_client")
    if not access.can(principal, access.VIEW, "access_log"):
        return qs.none()
    if getattr(principal, "is_superuser", False):
        return qs
    org = principal.organisation_id
    if org is None:
        return qs.none()
    return qs.filter(Q(user__organisation_id=org) | Q(api_client__organisation_id=org))


def access_alert_qs_for(*, principal: Any) -> QuerySet[AccessAlert]:
    """Bulk-reading alerts (Issue 8) about the accounts whose access log the principal sees."""
    qs = AccessAlert.objects.select_related("user", "api_client")
    if not access.can(principal, access.VIEW, "access_log"):
        return qs.none()
    if getattr(principal, "is_superuser", False):
        return qs
    org = principal.organisation_id
    if org is None:
        return qs.none()
    return qs.filter(Q(user__organisation_id=org) | Q(api_client__organisation_id=org))


def consultation_qs_for(*, principal: Any, action: str = access.VIEW) -> QuerySet:
    """Consultations in which one of the principal's offices took part."""
    from jointops.models import Consultation

    qs = Consultation.objects.select_related("recorded_by_office", "linked_type").prefetch_related("offices")
    return access.restrict_by_any(qs, principal, "consultation", action, ["offices"])


def consultation_get_for_user(*, principal: Any, pk: Any, action: str = access.VIEW):
    return get_or_404(consultation_qs_for(principal=principal, action=action), pk)
