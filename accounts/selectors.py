"""Reads of sign-in state: who must use two-factor sign-in, and whether they have set it up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q
from django_otp.plugins.otp_totp.models import TOTPDevice

from jointops.choices import Role
from jointops.models import Membership

# Issue 8: two-factor sign-in required for office managers, HQ focal points and administrators (a user holding any
# of these roles at any office) and for superusers; available to everyone else.
TWO_FACTOR_ROLES = frozenset({Role.OFFICE_MANAGER, Role.HQ_FOCAL_POINT, Role.ADMINISTRATOR})


@dataclass(frozen=True)
class TwoFactorState:
    has_device: bool
    required: bool
    unused_recovery_codes: int = 0


def two_factor_state(*, user: Any) -> TwoFactorState:
    """Has the user a confirmed authenticator, must they have one, how many recovery codes are left: one query."""
    row = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .annotate(
            has_device=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
            has_role=Exists(Membership.objects.filter(user=OuterRef("pk"), role__in=TWO_FACTOR_ROLES)),
            unused=Count("recovery_codes", filter=Q(recovery_codes__used_at__isnull=True)),
        )
        .values_list("has_device", "has_role", "is_superuser", "unused")
        .first()
    )
    if row is None:
        return TwoFactorState(has_device=False, required=False)
    has_device, has_role, is_superuser, unused = row
    return TwoFactorState(has_device=has_device, required=has_role or is_superuser, unused_recovery_codes=unused)


def two_factor_required(*, user: Any) -> bool:
    return two_factor_state(user=user).required


def confirmed_device(*, user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
