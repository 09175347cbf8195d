"""What every app shares: organisations, offices, staff and their roles, partner API clients, the access log."""

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from jointops.audit import history_records
from jointops.choices import FOUNDING_ORGANISATIONS, IOM, UNHCR, OfficeLevel, OrganisationKind, Role


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    class Meta:
        abstract = True


code_validator = RegexValidator(
    r"^[A-Z0-9]+(-[A-Z0-9]+)*$",
    _("Use capital letters, digits and single hyphens, e.g. IOM-AF-KBL."),
)


class Organisation(TimeStampedModel):
    """UNHCR and IOM (the MOU's parties), and the other parties that appear in agreements and handovers."""

    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=OrganisationKind.choices)
    country = CountryField(_("country"), blank=True, help_text=_("Blank for international organisations."))
    history = history_records()

    class Meta:
        ordering = ["code"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.code

    @property
    def is_founding_party(self) -> bool:
        return self.code in FOUNDING_ORGANISATIONS

    @property
    def is_unhcr(self) -> bool:
        return self.code == UNHCR

    @property
    def is_iom(self) -> bool:
        return self.code == IOM


class Office(TimeStampedModel):
    code = models.CharField(
        _("code"),
        max_length=32,
        unique=True,
        validators=[code_validator],
        help_text=_("Short unique code used in the API, the command line and imports, e.g. IOM-AF-KBL."),
    )
    name = models.CharField(_("name"), max_length=200)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="offices"
    )
    level = models.CharField(_("level"), max_length=16, choices=OfficeLevel.choices)
    country = CountryField(_("country"), blank=True, help_text=_("ISO 3166 country; blank for headquarters."))
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent office"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    counterpart = models.ForeignKey(
        "self",
        verbose_name=_("counterpart office"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="counterpart_of",
        help_text=_(
            "The office of the other agency this office works with. An IOM office's UNHCR counterpart receives "
            "its pre-departure name lists (Letter of 16 January 2003)."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    history = history_records()

    class Meta:
        ordering = ["organisation__code", "code"]
        verbose_name = _("office")
        verbose_name_plural = _("offices")

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("jointops:office_detail", args=[self.pk])

    def clean(self) -> None:
        errors = {}
        if self.parent_id and self.parent.organisation_id != self.organisation_id:
            errors["parent"] = _("The parent office must belong to the same organisation.")
        if self.parent_id and self.pk and self.parent_id == self.pk:
            errors["parent"] = _("An office cannot be its own parent.")
        if self.counterpart_id:
            own, other = self.organisation, self.counterpart.organisation
            if not (own.is_founding_party and other.is_founding_party) or own.pk == other.pk:
                errors["counterpart"] = _("The counterpart must be an office of the other agency (UNHCR ↔ IOM).")
        if self.level != OfficeLevel.HEADQUARTERS and not self.country:
            errors["country"] = _("Regional, country and field offices need a country.")
        if errors:
            raise ValidationError(errors)


class JointopsUserManager(UserManager):
    pass


class User(AbstractUser):
    """A member of staff. Belongs to one organisation; holds roles at one or more offices (Membership)."""

    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        help_text=_("Every member of staff belongs to exactly one organisation."),
    )
    # "Sign out everywhere" (issue 8): every session carries an HMAC of the password and of this number; raising it
    # ends every session of the account at its next request (Django checks the hash on each request).
    session_generation = models.PositiveIntegerField(_("session generation"), default=0, editable=False)
    objects = JointopsUserManager()

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def get_absolute_url(self) -> str:
        return reverse("jointops:user_detail", args=[self.pk])

    @property
    def is_api_client(self) -> bool:
        return False

    def _get_session_auth_hash(self, secret=None):
        # Django's hash of the password, with the session generation mixed in (see session_generation).
        key_salt = "jointops.models.User.get_session_auth_hash"
        return salted_hmac(
            key_salt, f"{self.password}:{self.session_generation}", secret=secret, algorithm="sha256"
        ).hexdigest()


class Membership(TimeStampedModel):
    """A user's role at an office. HQ focal points and administrators act for their whole organisation."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships")
    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    history = history_records()

    class Meta:
        ordering = ["office__code", "role"]
        constraints = [models.UniqueConstraint(fields=["user", "office"], name="membership_one_role_per_office")]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} @ {self.office.code}"


TOKEN_PREFIX_LEN = 10


def hash_token(token: str) -> str:
    # The token is 256 bits of randomness: a fast hash is enough (no dictionary to guess from).
    return hashlib.sha256(token.encode()).hexdigest()


class ApiClient(TimeStampedModel):
    """A partner system (a registration system, a migrant-management system, a government system).

    Bound to one office and organisation, limited to its scopes; its token is stored hashed and shown once.
    """

    name = models.CharField(_("name"), max_length=200)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="api_clients"
    )
    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.PROTECT, related_name="api_clients")
    scopes = models.JSONField(_("scopes"), default=list, help_text=_("e.g. offices:read, beneficiaries:write"))
    token_prefix = models.CharField(_("token prefix"), max_length=TOKEN_PREFIX_LEN, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, editable=False)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    created_by = models.ForeignKey(
        User, verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = history_records(excluded_fields=["token_hash", "last_used_at"])

    class Meta:
        ordering = ["organisation__code", "name"]
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("jointops:api_client_detail", args=[self.pk])

    # DRF and Django treat the authenticated principal like a user.
    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_superuser = False
    is_staff = False
    is_api_client = True

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())

    @staticmethod
    def new_token() -> tuple[str, str]:
        """Return (prefix, token). The token is `jo_<prefix>_<secret>`."""
        prefix = secrets.token_hex(TOKEN_PREFIX_LEN // 2)
        return prefix, f"jo_{prefix}_{secrets.token_urlsafe(32)}"


class AppendOnlyQuerySet(models.QuerySet):
    """Bulk updates and deletes refused: the records of accountability (the access log, anonymisations) are only
    ever added to (issue 8: "append-only")."""

    def update(self, **kwargs):
        raise PermissionError(f"{self.model._meta.verbose_name_plural} is append-only.")

    def delete(self):
        raise PermissionError(f"{self.model._meta.verbose_name_plural} is append-only.")


class AppendOnlyModel(models.Model):
    """A row is written once: saving it again or deleting it is refused (PostgreSQL triggers refuse it too where a
    migration adds them, e.g. jointops 0003)."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise PermissionError(f"{self._meta.verbose_name_plural} is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError(f"{self._meta.verbose_name_plural} is append-only.")


class AccessLog(AppendOnlyModel):
    """Append-only record of every read of a person's record, every export and list download.

    Holds ids, never personal data: who (user or API client), when, what kind of record, which ids, why.
    """

    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    api_client = models.ForeignKey(ApiClient, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(_("action"), max_length=32)  # view, list, export, download
    resource = models.CharField(_("resource"), max_length=64)
    object_ids = models.JSONField(_("record ids"), default=list)
    record_count = models.PositiveIntegerField(_("number of records"), default=0)
    purpose = models.CharField(_("purpose"), max_length=200, blank=True)
    path = models.CharField(_("path"), max_length=500, blank=True)

    class Meta:
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["resource", "at"], name="accesslog_resource_at"),
            # Issue 8 (bulk-reading alert): the sum over the last hour of one account's reads, on every read.
            models.Index(fields=["user", "at"], name="accesslog_user_at"),
            models.Index(fields=["api_client", "at"], name="accesslog_client_at"),
        ]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.resource} ({self.record_count})"


class AccessAlert(models.Model):
    """Issue 8 (accountability): one account (a user or a partner system) read or exported more person records
    within an hour than ACCESS_ALERT_RECORDS_PER_HOUR. Written once per account and clock hour (the constraints),
    when the administrators of the account's organisation are alerted. Ids and counts only, never a person."""

    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    api_client = models.ForeignKey(ApiClient, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("organisation")
    )
    window_start = models.DateTimeField(
        _("hour"), help_text=_("The clock hour in which the limit was passed (one alert per account and hour).")
    )
    counted_since = models.DateTimeField(_("counted since"))
    counted_until = models.DateTimeField(_("counted until"))
    record_count = models.PositiveIntegerField(_("person records"))
    threshold = models.PositiveIntegerField(_("limit per hour"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("access alert")
        verbose_name_plural = _("access alerts")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False, api_client__isnull=True)
                | models.Q(user__isnull=True, api_client__isnull=False),
                name="access_alert_one_account",
            ),
            models.UniqueConstraint(
                fields=["user", "window_start"], condition=models.Q(user__isnull=False), name="access_alert_user_hour"
            ),
            models.UniqueConstraint(
                fields=["api_client", "window_start"],
                condition=models.Q(api_client__isnull=False),
                name="access_alert_client_hour",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "created_at"], name="access_alert_org_created")]

    def __str__(self) -> str:
        return f"{self.window_start:%Y-%m-%d %H:%M} {self.account} ({self.record_count})"

    @property
    def account(self):
        return self.user or self.api_client


class WorkerHeartbeat(models.Model):
    """Last time a Celery worker ran the heartbeat task (shown by /healthz; proves the worker consumes)."""

    name = models.CharField(max_length=64, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"


class ConsultationSubject(models.TextChoices):
    CONTINGENCY_PLANNING = "contingency_planning", _("Contingency planning (MOU §22)")
    IDP_OPERATION = "idp_operation", _("Cooperation on internally displaced persons, case by case (MOU §25)")
    DIRECT_DEPARTURE = "direct_departure", _("Direct departure mechanisms (MOU §28)")
    REJECTED_ASYLUM_SEEKERS = "rejected_asylum_seekers", _("Rejected asylum-seekers (MOU §29)")
    RESOURCES = "resources", _("Insufficient resources (MOU §36)")
    OTHER = "other", _("Other")


class Consultation(TimeStampedModel):
    """A consultation between the two agencies (MOU §22, §25, §28, §29), linked to the case, operation or Letter of
    Understanding it concerns. Lives here so that every app can link to it."""

    held_on = models.DateField(_("held on"))
    recorded_by_office = models.ForeignKey(
        Office, verbose_name=_("recording office"), on_delete=models.PROTECT, related_name="+"
    )
    offices = models.ManyToManyField(Office, verbose_name=_("offices taking part"), related_name="consultations")
    participants = models.TextField(_("participants"), help_text=_("Names and functions, one per line."))
    subject_kind = models.CharField(_("subject"), max_length=32, choices=ConsultationSubject.choices)
    subject = models.CharField(_("title"), max_length=200)
    outcome = models.TextField(_("outcome"), blank=True)
    linked_type = models.ForeignKey(
        "contenttypes.ContentType",
        verbose_name=_("linked record type"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    linked_id = models.PositiveBigIntegerField(_("linked record id"), null=True, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    history = history_records(m2m_fields=[offices])

    class Meta:
        ordering = ["-held_on", "-pk"]
        indexes = [models.Index(fields=["linked_type", "linked_id"], name="consultation_linked")]
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")

    def __str__(self) -> str:
        return f"{self.held_on}: {self.subject}"

    @property
    def linked(self):
        if not self.linked_type_id or not self.linked_id:
            return None
        return self.linked_type.get_object_for_this_type(pk=self.linked_id)
