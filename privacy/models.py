"""Retention periods, the record of anonymisations, and the requests of the people whose data we hold (issue 8).

UNHCR's Policy on the Protection of Personal Data of Persons of Concern and IOM's Data Protection Principles: data
kept no longer than needed for its purpose (retention), and the person's rights of access, correction and deletion.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jointops.audit import history_records
from jointops.models import AppendOnlyModel, Office, TimeStampedModel, User
from privacy.choices import AnonymisationReason, RecordType, RequestChannel, RequestKind, RequestStatus


class RetentionPolicy(models.Model):
    """How long one record type is kept after its closing event. Administrators change it in the Django admin."""

    record_type = models.CharField(_("record type"), max_length=32, choices=RecordType.choices, unique=True)
    days = models.PositiveIntegerField(
        _("kept for (days)"),
        validators=[MinValueValidator(1), MaxValueValidator(36500)],
        help_text=_("Counted from the event named by the record type; past it, the scheduled task anonymises."),
    )
    basis = models.CharField(
        _("reason for this period"), max_length=300, blank=True, help_text=_("e.g. the agency's retention schedule")
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = history_records()

    class Meta:
        ordering = ["record_type"]
        verbose_name = _("retention period")
        verbose_name_plural = _("retention periods")

    def __str__(self) -> str:
        return f"{self.get_record_type_display()}: {self.days}"


class Anonymisation(AppendOnlyModel):
    """Append-only record of one anonymisation: what (type and id, never the data removed), when, why, by whom."""

    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    record_type = models.CharField(_("record type"), max_length=32, choices=RecordType.choices)
    object_id = models.PositiveBigIntegerField(_("record id"))
    reason = models.CharField(_("reason"), max_length=32, choices=AnonymisationReason.choices)
    retention_days = models.PositiveIntegerField(_("retention period applied (days)"), null=True, blank=True)
    request = models.ForeignKey(
        "privacy.DataSubjectRequest", null=True, blank=True, on_delete=models.PROTECT, related_name="anonymisations"
    )
    by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["record_type", "object_id"], name="anonymisation_record")]
        verbose_name = _("anonymisation")
        verbose_name_plural = _("anonymisations")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d} {self.record_type} {self.object_id}"


class DataSubjectRequest(TimeStampedModel):
    """A request by a person (or their representative) about the data held on them, and its outcome."""

    person = models.ForeignKey(
        "beneficiaries.Beneficiary", verbose_name=_("person"), on_delete=models.PROTECT, related_name="data_requests"
    )
    office = models.ForeignKey(
        Office, verbose_name=_("office handling the request"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("request"), max_length=16, choices=RequestKind.choices)
    received_on = models.DateField(_("received on"))
    channel = models.CharField(_("received by"), max_length=16, choices=RequestChannel.choices)
    details = models.TextField(
        _("what is asked"), blank=True, help_text=_("e.g. the fields to correct and the right values; no more.")
    )
    status = models.CharField(_("status"), max_length=16, choices=RequestStatus.choices, default=RequestStatus.OPEN)
    outcome = models.TextField(_("outcome"), blank=True, help_text=_("What was done, or why it was refused."))
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    version = models.PositiveIntegerField(default=1, editable=False)
    history = history_records()

    class Meta:
        ordering = ["-received_on", "-pk"]
        indexes = [models.Index(fields=["office", "status"], name="dsr_office_status")]
        verbose_name = _("data subject request")
        verbose_name_plural = _("data subject requests")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.received_on}"
