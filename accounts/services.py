"""Writes of sign-in and sessions (issue 8). Each service: keyword-only, one transaction, permission-checked, and
recorded in the access log (jointops.audit.log_access: ids only). Staff accounts keep no change history of their own,
so the access log is where an account's security events are found (resource "user", the account's id).
"""

from __future__ import annotations

import base64
import secrets
import time
from binascii import Error as BinasciiError
from binascii import unhexlify
from typing import Any

from django.contrib.auth import get_user_model, update_session_auth_hash
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from accounts.models import RecoveryCode, hash_recovery_code, normalise_recovery_code
from accounts.selectors import two_factor_state
from jointops import access
from jointops.audit import log_access
from jointops.exceptions import DomainError, PermissionRefused, ValidationFailed

RECOVERY_CODE_COUNT = 10
DEVICE_NAME = "authenticator"


class TooManyAttempts(DomainError):
    """Issue 8: wrong codes slow the next try down (django-otp's exponential back-off on the device)."""

    status_code = 429
    default_code = "throttled"
    default_message = gettext_lazy("Too many wrong codes. Wait a moment before trying again.")


def _log(*, actor: Any, action: str, user: Any, path: str = "") -> None:
    log_access(actor=actor, action=action, resource="user", object_ids=[user.pk], path=path)


# --- Enrolment ------------------------------------------------------------------------------------------------------


def totp_new_key() -> str:
    """A fresh secret (20 random bytes, hex, as django-otp stores it); kept in the session until confirmed."""
    return random_hex(20)


def totp_key_base32(key: str) -> str:
    """The secret as people type it into an authenticator app."""
    return base64.b32encode(unhexlify(key)).decode()


def totp_config_url(*, user: Any, key: str) -> str:
    """The otpauth:// address the QR code carries (issuer from OTP_TOTP_ISSUER)."""
    return TOTPDevice(user=user, key=key, name=DEVICE_NAME).config_url


def _check_totp(key: str, code: str) -> int | None:
    """The time step a code matches for `key` (with django-otp's default tolerance of one step), or None."""
    code = (code or "").strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    try:
        totp = TOTP(unhexlify(key), step=30, t0=0, digits=6, drift=0)
    except (BinasciiError, ValueError, TypeError):
        return None
    totp.time = time.time()
    return totp.t() if totp.verify(int(code), tolerance=1) else None


def _replace_recovery_codes(user: Any) -> list[str]:
    """Delete the account's recovery codes and make RECOVERY_CODE_COUNT new ones (80 random bits each)."""
    RecoveryCode.objects.filter(user=user).delete()
    codes = []
    for _i in range(RECOVERY_CODE_COUNT):
        raw = base64.b32encode(secrets.token_bytes(10)).decode()  # 16 characters A-Z, 2-7
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    RecoveryCode.objects.bulk_create([RecoveryCode(user=user, code_hash=hash_recovery_code(code)) for code in codes])
    return codes


@transaction.atomic
def two_factor_enrol(*, actor: Any, key: str, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the authenticator holding `key` with a current `code`; replaces any earlier authenticator and its
    recovery codes. Returns the device and the new recovery codes (in clear, to be shown once, never stored)."""
    if not key:
        raise ValidationFailed(_("The set-up has expired. Start again."), field="code")
    matched_step = _check_totp(key, code)
    if matched_step is None:
        raise ValidationFailed(_("This code does not match. Enter the 6-digit code your app shows now."), field="code")
    TOTPDevice.objects.filter(user=actor).delete()
    # last_t: the code just used cannot be replayed to verify a session.
    device = TOTPDevice.objects.create(user=actor, name=DEVICE_NAME, key=key, confirmed=True, last_t=matched_step)
    codes = _replace_recovery_codes(actor)
    _log(actor=actor, action="two_factor_enrol", user=actor)
    return device, codes


# --- Verification -----------------------------------------------------------------------------------------------------


def _use_recovery_code(user: Any, code: str) -> bool:
    """Spend one unused recovery code; single use even under concurrent requests (conditional UPDATE)."""
    if len(normalise_recovery_code(code)) != 16:
        return False
    spent = RecoveryCode.objects.filter(user=user, code_hash=hash_recovery_code(code), used_at__isnull=True).update(
        used_at=timezone.now()
    )
    return spent == 1


@transaction.atomic
def two_factor_verify(*, user: Any, code: str) -> TOTPDevice | None:
    """The second factor: a current TOTP code or one unused recovery code. Returns the device, or None if the code
    is wrong. Every wrong code (TOTP or recovery) raises the device's back-off (1, 2, 4, 8... seconds, django-otp's
    ThrottlingMixin, OTP_TOTP_THROTTLE_FACTOR); while it runs, even a right code is refused (TooManyAttempts)."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk").first()
    if device is None:
        raise ValidationFailed(_("Two-factor sign-in is not set up for this account."), field="code")
    allowed, _details = device.verify_is_allowed()
    if not allowed:
        raise TooManyAttempts(field="code")
    cleaned = (code or "").strip().replace(" ", "")
    if cleaned.isdigit() and len(cleaned) == device.digits:
        return device if device.verify_token(cleaned) else None  # verify_token records the failure itself
    if _use_recovery_code(user, cleaned):
        device.throttle_reset()
        _log(actor=user, action="recovery_code_used", user=user)
        return device
    device.throttle_increment()
    return None


# --- The account's own security page ---------------------------------------------------------------------------------


@transaction.atomic
def recovery_codes_regenerate(*, actor: Any) -> list[str]:
    """New recovery codes; the old ones stop working at once."""
    if not TOTPDevice.objects.filter(user=actor, confirmed=True).exists():
        raise ValidationFailed(_("Set up two-factor sign-in first."), field="recovery_codes")
    codes = _replace_recovery_codes(actor)
    _log(actor=actor, action="recovery_codes_regenerate", user=actor)
    return codes


@transaction.atomic
def two_factor_disable(*, actor: Any) -> None:
    """Switch two-factor sign-in off, only for an account that is not required to use it."""
    # Issue 8: two-factor sign-in required for office managers, HQ focal points and administrators (and superusers).
    if two_factor_state(user=actor).required:
        raise ValidationFailed(
            _("Your role requires two-factor sign-in: it cannot be switched off."), field="two_factor"
        )
    TOTPDevice.objects.filter(user=actor).delete()
    RecoveryCode.objects.filter(user=actor).delete()
    _log(actor=actor, action="two_factor_disable", user=actor)


# --- Sessions --------------------------------------------------------------------------------------------------------


def _may_manage(actor: Any, user: Any) -> bool:
    return actor is None or actor.pk == user.pk or access.administers(actor, user.organisation_id)


@transaction.atomic
def user_sign_out_everywhere(*, actor: Any, user: Any, request: Any = None) -> None:
    """End every session of `user` at its next request: the session generation (mixed into the session hash Django
    checks on each request, jointops.models.User) goes up by one.

    When the person does it for themselves from a browser (`request` given), that browser stays signed in on a new
    session key: they have just proved who they are, and an attacker holding a copy of the old cookie is out too.
    Everywhere else (other browsers, copied cookies) is signed out. An administrator's request never keeps the
    target's sessions.
    """
    if not _may_manage(actor, user):
        raise PermissionRefused()
    User = get_user_model()
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    user.refresh_from_db(fields=["session_generation"])
    _log(actor=actor, action="sign_out_everywhere", user=user, path=getattr(request, "path", ""))
    if request is not None and getattr(request.user, "pk", None) == user.pk:
        update_session_auth_hash(request, user)


@transaction.atomic
def two_factor_reset(*, actor: Any, user: Any, request: Any = None) -> None:
    """An administrator of the account's organisation removes its authenticator and recovery codes (a lost phone) and
    signs it out everywhere; at the next sign-in the person sets two-factor sign-in up again if their role needs it.
    Recorded in the access log."""
    if actor is None or not access.administers(actor, user.organisation_id):
        raise PermissionRefused()
    if actor.pk == user.pk:
        raise ValidationFailed(_("Use your own security page to change your two-factor sign-in."), field="user")
    if user.is_superuser and not actor.is_superuser:
        raise PermissionRefused()
    TOTPDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    _log(actor=actor, action="two_factor_reset", user=user, path=getattr(request, "path", ""))
    user_sign_out_everywhere(actor=actor, user=user)
