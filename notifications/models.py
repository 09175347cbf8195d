"""Notices the agencies owe each other, and the outbox that delivers them exactly once.

- Pre-departure name lists, IOM → UNHCR (Letter of 16 January 2003): a list per IOM office for its counterpart
  UNHCR office, with one entry per person and change; only the fields of `ENTRY_FIELDS` cross the agencies.
- The inbox (`Notification`) of each member of staff, with their e-mail preference.
- `Delivery` is the outbox: written in the same transaction as what it delivers, sent by Celery, marked done
  idempotently, retried with backoff, parked as failed after the last try, re-dispatched by a sweeper.
- `LouReminder` remembers which LoU milestone was announced, so each is sent once (MOU §39, §45, §47).
"""

import secrets
import uuid

from django.core.validators import MaxValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from jointops import access
from jointops.audit import history_records
from jointops.models import ApiClient, Office, TimeStampedModel, User
from notifications.choices import (
    ChangeKind,
    Channel,
    DeliveryStatus,
    EmailPreference,
    Milestone,
    NoticeKind,
    Trigger,
)

# Letter: UNHCR receives "a list of names and dates of expected departure" — and nothing more than it needs to
# identify the person (DOMAIN.md, data minimisation). This allow-list is the one place that decides what of a person
# crosses to UNHCR: the list page, the API, the CSV and PDF attachments and the webhook body all print these only.
ENTRY_FIELDS = (
    "given_name",
    "family_name",
    "expected_departure_date",
    "change",
    "iom_case_reference",
    "unhcr_registration_number",
)

DEFAULT_LEAD_TIME_DAYS = 7


class OfficePair(TimeStampedModel):
    """An IOM office and its UNHCR counterpart: how many days before departure UNHCR must be told (Letter: "in a
    timely way"). Without a row, the lead time is 7 days."""

    iom_office = models.ForeignKey(Office, verbose_name=_("IOM office"), on_delete=models.CASCADE, related_name="+")
    unhcr_office = models.ForeignKey(Office, verbose_name=_("UNHCR office"), on_delete=models.CASCADE, related_name="+")
    lead_time_days = models.PositiveSmallIntegerField(
        _("lead time (days)"),
        default=DEFAULT_LEAD_TIME_DAYS,
        validators=[MaxValueValidator(90)],
        help_text=_("An entry reaching UNHCR fewer days than this before departure is marked late."),
    )
    history = history_records()

    class Meta:
        verbose_name = _("office pair")
        verbose_name_plural = _("office pairs")
        constraints = [models.UniqueConstraint(fields=["iom_office", "unhcr_office"], name="office_pair_once")]

    def __str__(self) -> str:
        return f"{self.iom_office.code} → {self.unhcr_office.code}"


class OfficeContact(TimeStampedModel):
    """An address where an office receives its notices by e-mail (a UNHCR office: its pre-departure lists)."""

    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.CASCADE, related_name="+")
    email = models.EmailField(_("e-mail address"))
    is_active = models.BooleanField(_("active"), default=True)
    history = history_records()

    class Meta:
        ordering = ["office", "email"]
        verbose_name = _("notification address")
        verbose_name_plural = _("notification addresses")
        constraints = [models.UniqueConstraint(fields=["office", "email"], name="office_contact_once")]

    def __str__(self) -> str:
        return self.email


class NotificationSettings(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="notification_settings")
    email_preference = models.CharField(
        _("e-mail"), max_length=8, choices=EmailPreference.choices, default=EmailPreference.INSTANT
    )

    class Meta:
        verbose_name = _("notification settings")
        verbose_name_plural = _("notification settings")

    def __str__(self) -> str:
        return f"{self.user}: {self.email_preference}"


class PreDepartureListQuerySet(models.QuerySet):
    def visible_to(self, principal, action: str = access.VIEW) -> "PreDepartureListQuerySet":
        # The sending IOM office and the receiving UNHCR office (and the offices above them, HQ focal points).
        return access.restrict_by_any(self, principal, "pre_departure_list", action, ["iom_office", "unhcr_office"])


class PreDepartureList(TimeStampedModel):
    """IOM's list for its counterpart UNHCR office of the departures UNHCR must know of, and every change since the
    last list (Letter)."""

    reference = models.CharField(_("reference"), max_length=60, unique=True, editable=False)
    iom_office = models.ForeignKey(Office, verbose_name=_("IOM office"), on_delete=models.PROTECT, related_name="+")
    unhcr_office = models.ForeignKey(Office, verbose_name=_("UNHCR office"), on_delete=models.PROTECT, related_name="+")
    trigger = models.CharField(_("built by"), max_length=16, choices=Trigger.choices)
    built_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    built_by_client = models.ForeignKey(ApiClient, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    horizon_days = models.PositiveSmallIntegerField(_("horizon (days)"))
    lead_time_days = models.PositiveSmallIntegerField(_("lead time (days)"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    acknowledged_by_client = models.ForeignKey(
        ApiClient, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = history_records()

    objects = PreDepartureListQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("pre-departure list")
        verbose_name_plural = _("pre-departure lists")
        indexes = [models.Index(fields=["unhcr_office", "created_at"], name="pdl_unhcr_created")]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse("notifications:list_detail", args=[self.pk])


class PreDepartureEntry(models.Model):
    """One person and one change on a list. The case and person links stay inside IOM's side of the system; what
    UNHCR sees is `ENTRY_FIELDS`, copied when the list was built."""

    list = models.ForeignKey(PreDepartureList, on_delete=models.PROTECT, related_name="entries")
    case = models.ForeignKey("returns.ReturnCase", on_delete=models.PROTECT, related_name="+")
    beneficiary = models.ForeignKey("beneficiaries.Beneficiary", on_delete=models.PROTECT, related_name="+")
    change = models.CharField(_("change"), max_length=16, choices=ChangeKind.choices)
    given_name = models.CharField(_("given name"), max_length=100)
    family_name = models.CharField(_("family name"), max_length=100)
    expected_departure_date = models.DateField(_("expected departure date"), null=True, blank=True)
    iom_case_reference = models.CharField(_("IOM case reference"), max_length=40)
    unhcr_registration_number = models.CharField(_("UNHCR registration number"), max_length=40, blank=True)
    days_before_departure = models.IntegerField(_("days before departure"), null=True, blank=True)
    is_late = models.BooleanField(
        _("late"), default=False, help_text=_("Sent fewer days before departure than the office pair's lead time.")
    )
    concern = models.TextField(_("voluntariness concern"), blank=True)
    concern_at = models.DateTimeField(_("concern recorded at"), null=True, blank=True)
    concern_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    record_closed_at = models.DateTimeField(_("UNHCR record closed at"), null=True, blank=True)
    record_closed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    history = history_records()

    class Meta:
        ordering = ["expected_departure_date", "family_name", "given_name", "pk"]
        verbose_name = _("pre-departure list entry")
        verbose_name_plural = _("pre-departure list entries")
        indexes = [models.Index(fields=["case", "beneficiary"], name="pde_case_person")]

    def __str__(self) -> str:
        return f"{self.list.reference}: {self.iom_case_reference} {self.get_change_display()}"


class WebhookSubscription(TimeStampedModel):
    """A partner system (e.g. UNHCR's registration system) that receives the lists of the offices its credentials
    cover, POSTed as JSON signed with HMAC-SHA256."""

    api_client = models.ForeignKey(
        ApiClient, verbose_name=_("partner system"), on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField(_("address"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=64, default=secrets.token_hex, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    history = history_records(excluded_fields=["secret"])

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")

    def __str__(self) -> str:
        return f"{self.api_client.name}: {self.url}"


class Notification(models.Model):
    """An item in one person's inbox. Its text names records by reference, never a person."""

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=32, choices=NoticeKind.choices)
    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    pre_departure_list = models.ForeignKey(
        PreDepartureList, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(_("received at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["recipient", "read_at"], name="notice_recipient_read")]

    def __str__(self) -> str:
        return self.title


class Delivery(models.Model):
    """One message to send, written in the same transaction as what it carries (the outbox)."""

    key = models.UUIDField(_("delivery key"), default=uuid.uuid4, unique=True, editable=False)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    pre_departure_list = models.ForeignKey(
        PreDepartureList, null=True, blank=True, on_delete=models.PROTECT, related_name="deliveries"
    )
    notification = models.ForeignKey(
        Notification, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    digest_for = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    subscription = models.ForeignKey(
        WebhookSubscription, null=True, blank=True, on_delete=models.PROTECT, related_name="deliveries"
    )
    recipients = models.TextField(_("recipients"), blank=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    max_attempts = models.PositiveSmallIntegerField(_("maximum attempts"))
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    started_at = models.DateTimeField(_("last attempt started at"), null=True, blank=True)
    done_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.key}"


class LouReminder(models.Model):
    """A milestone of an LoU already announced: each is sent once per letter and per date it concerns."""

    lou = models.ForeignKey(
        "letters_of_understanding.LetterOfUnderstanding", on_delete=models.CASCADE, related_name="reminders"
    )
    milestone = models.CharField(_("milestone"), max_length=24, choices=Milestone.choices)
    concerns_date = models.DateField(_("date concerned"))
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("LoU reminder")
        verbose_name_plural = _("LoU reminders")
        constraints = [
            models.UniqueConstraint(fields=["lou", "milestone", "concerns_date"], name="lou_reminder_once"),
        ]

    def __str__(self) -> str:
        return f"{self.lou_id} {self.milestone} {self.concerns_date}"
