"""Recovery codes of two-factor sign-in (issue 8). The TOTP devices themselves are django-otp's TOTPDevice."""

import hashlib

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def hash_recovery_code(code: str) -> str:
    """SHA-256 of the normalised code. A code carries 80 random bits: a fast hash leaves nothing to guess from."""
    return hashlib.sha256(normalise_recovery_code(code).encode()).hexdigest()


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


class RecoveryCode(models.Model):
    """One single-use recovery code, stored hashed; shown once when made. Regenerating deletes the old ones."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="recovery_codes"
    )
    code_hash = models.CharField(_("code hash"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["user_id", "pk"]
        constraints = [models.UniqueConstraint(fields=["user", "code_hash"], name="recovery_code_unique_per_user")]
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")

    def __str__(self) -> str:
        state = _("used") if self.used_at else _("unused")
        return f"{self.user_id} #{self.pk} ({state})"
