"""Field-level Letters of Understanding (MOU §5) and what the MOU's general provisions attach to them: funding
(§36), staff secondments (§37), monitoring and evaluation (§38), phase-out and handover (§39-§40), entry into force,
termination, amendment and review (§44-§47, by analogy)."""

from django.core.validators import MaxLengthValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from beneficiaries.models import BeneficiaryCategory
from jointops import access
from jointops.audit import history_records
from jointops.models import ApiClient, Office, TimeStampedModel, User
from letters_of_understanding.choices import (
    ActivityKind,
    Agency,
    AmendmentStatus,
    EvaluationKind,
    EventKind,
    HandoverStatus,
    LouStatus,
    PlanStatus,
    RecipientKind,
    ReviewOutcome,
)

currency_validator = RegexValidator(r"^[A-Z]{3}$", _("Use the three-letter ISO 4217 code, e.g. USD."))
LONG_TEXT = [MaxLengthValidator(20000)]
SHORT_TEXT = [MaxLengthValidator(4000)]


class LetterOfUnderstandingQuerySet(models.QuerySet):
    def visible_to(self, principal, action: str = access.VIEW) -> "LetterOfUnderstandingQuerySet":
        # An LoU is its two parties' business: both parties' offices (and the offices above them) and both
        # organisations' HQ focal points (MOU §35) see it.
        return access.restrict_by_any(self, principal, "lou", action, ["unhcr_office", "iom_office"])


class LetterOfUnderstanding(TimeStampedModel):
    """A field-level Letter of Understanding: the MOU expanded for one operational situation (MOU §5)."""

    reference = models.CharField(_("reference"), max_length=40, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    operational_situation = models.TextField(
        _("operational situation"),
        validators=SHORT_TEXT,
        help_text=_("MOU §5: the operational situation this letter expands the MOU for."),
    )
    countries = CountryField(_("countries"), multiple=True, blank=True)
    region = models.CharField(_("region"), max_length=200, blank=True)
    unhcr_office = models.ForeignKey(
        Office, verbose_name=_("UNHCR office"), on_delete=models.PROTECT, related_name="lous_as_unhcr"
    )
    iom_office = models.ForeignKey(
        Office, verbose_name=_("IOM office"), on_delete=models.PROTECT, related_name="lous_as_iom"
    )
    other_parties = models.TextField(
        _("other parties"), blank=True, validators=SHORT_TEXT, help_text=_("e.g. a government ministry.")
    )
    categories = models.ManyToManyField(
        BeneficiaryCategory, verbose_name=_("beneficiary categories covered"), blank=True, related_name="+"
    )
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(
        _("agreed end date"),
        null=True,
        blank=True,
        help_text=_("MOU §39: a phase-out plan agreed by both parties is needed before this date."),
    )
    institutional_framework = models.TextField(
        _("institutional framework for cooperation"), blank=True, validators=LONG_TEXT, help_text=_("MOU §5.")
    )
    linkages = models.TextField(
        _("linkages between the two agencies' activities"), blank=True, validators=LONG_TEXT, help_text=_("MOU §5.")
    )
    monitoring_procedures = models.TextField(
        _("monitoring procedures"),
        blank=True,
        validators=LONG_TEXT,
        help_text=_("MOU §38: agreed procedures that let both managements control the joint activities."),
    )
    evaluation_arrangements = models.TextField(
        _("evaluation arrangements"),
        blank=True,
        validators=LONG_TEXT,
        help_text=_("MOU §38: guidelines and methodology for evaluating the joint projects."),
    )

    status = models.CharField(
        _("status"), max_length=16, choices=LouStatus.choices, default=LouStatus.DRAFT, editable=False
    )
    text_version = models.PositiveIntegerField(
        _("text version"), default=0, editable=False, help_text=_("0 while drafting; 1 from entry into force.")
    )
    entered_into_force_on = models.DateField(_("in force since"), null=True, blank=True, editable=False)
    review_due_on = models.DateField(
        _("next review due"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("MOU §47: reviewed at least every 12 months."),
    )
    termination_notice_served_on = models.DateField(_("termination notice served on"), null=True, editable=False)
    termination_notice_by = models.CharField(
        _("notice served by"), max_length=8, choices=Agency.choices, blank=True, editable=False
    )
    termination_reason = models.TextField(_("reason for termination"), blank=True, editable=False)
    termination_effective_on = models.DateField(
        _("termination takes effect on"),
        null=True,
        editable=False,
        help_text=_("MOU §45: at least 90 days after the written notice."),
    )
    resources_flagged_on = models.DateField(_("resources flagged as insufficient on"), null=True, editable=False)
    resources_flagged_by = models.CharField(
        _("flagged by"), max_length=8, choices=Agency.choices, blank=True, editable=False
    )
    resources_flag_note = models.TextField(_("why resources will be insufficient"), blank=True, editable=False)
    phase_out_started_on = models.DateField(_("phase-out started on"), null=True, editable=False)
    unhcr_obligations_confirmed_on = models.DateField(_("UNHCR's obligations confirmed on"), null=True, editable=False)
    iom_obligations_confirmed_on = models.DateField(_("IOM's obligations confirmed on"), null=True, editable=False)
    ended_on = models.DateField(_("ended on"), null=True, editable=False)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    version = models.PositiveIntegerField(default=1, editable=False)
    history = history_records(m2m_fields=[categories])

    objects = LetterOfUnderstandingQuerySet.as_manager()

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("letter of understanding")
        verbose_name_plural = _("letters of understanding")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="lou_end_after_start",
                violation_error_message=_("The end date cannot be before the start date."),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "end_date"], name="lou_status_end_idx"),
            models.Index(fields=["status", "review_due_on"], name="lou_status_review_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("letters_of_understanding:lou_detail", args=[self.pk])

    def party_office(self, agency: str) -> Office:
        return self.unhcr_office if agency == Agency.UNHCR else self.iom_office


class Activity(models.Model):
    """An agreed activity of one agency under the LoU (MOU §5), typed by the MOU's section IV."""

    lou = models.ForeignKey(LetterOfUnderstanding, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(_("kind of activity"), max_length=32, choices=ActivityKind.choices)
    agency = models.CharField(_("responsible agency"), max_length=8, choices=Agency.choices)
    description = models.TextField(_("description"), validators=SHORT_TEXT)
    indicators = models.TextField(_("indicators"), blank=True, validators=SHORT_TEXT)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    history = history_records()

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")

    def __str__(self) -> str:
        return f"{self.get_agency_display()}: {self.get_kind_display()}"


class FundingArrangement(models.Model):
    """MOU §36: each agency mobilises its own resources; joint appeals are possible."""

    lou = models.ForeignKey(LetterOfUnderstanding, on_delete=models.CASCADE, related_name="funding")
    agency = models.CharField(_("agency"), max_length=8, choices=Agency.choices)
    source = models.CharField(_("source or donor"), max_length=200)
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    currency = models.CharField(_("currency"), max_length=3, blank=True, validators=[currency_validator])
    joint_appeal = models.BooleanField(
        _("joint appeal"),
        default=False,
        help_text=_("MOU §36: joint resource mobilisation or a UN consolidated appeal."),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    history = history_records()

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("funding arrangement")
        verbose_name_plural = _("funding arrangements")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | ~Q(currency=""),
                name="funding_amount_has_currency",
                violation_error_message=_("Give the currency of the amount."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_agency_display()}: {self.source}"


class StaffSecondment(models.Model):
    """MOU §37: the agencies assist each other in training and secondment of staff."""

    lou = models.ForeignKey(LetterOfUnderstanding, on_delete=models.CASCADE, related_name="secondments")
    from_agency = models.CharField(_("seconded by"), max_length=8, choices=Agency.choices)
    position = models.CharField(_("position"), max_length=200)
    number = models.PositiveSmallIntegerField(_("number of staff"), default=1, validators=[MinValueValidator(1)])
    start_on = models.DateField(_("from"), null=True, blank=True)
    end_on = models.DateField(_("until"), null=True, blank=True)
    position_order = models.PositiveSmallIntegerField(_("position in the list"), default=0)
    history = history_records()

    class Meta:
        ordering = ["position_order", "pk"]
        verbose_name = _("staff secondment")
        verbose_name_plural = _("staff secondments")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_on__isnull=True) | Q(start_on__isnull=True) | Q(end_on__gte=models.F("start_on")),
                name="secondment_end_after_start",
                violation_error_message=_("The end of the secondment cannot be before its start."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_from_agency_display()}: {self.position}"


class LouVersion(models.Model):
    """A version of the text in force, kept for ever (MOU §46: every change by mutual consent)."""

    lou = models.ForeignKey(LetterOfUnderstanding, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    content = models.JSONField(_("content"))
    content_hash = models.CharField(_("content hash (SHA-256)"), max_length=64)
    effective_from = models.DateField(_("effective from"))
    amendment = models.OneToOneField(
        "Amendment", null=True, blank=True, on_delete=models.PROTECT, related_name="resulting_version"
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["lou", "number"]
        verbose_name = _("version of the text")
        verbose_name_plural = _("versions of the text")
        constraints = [models.UniqueConstraint(fields=["lou", "number"], name="lou_version_unique")]

    def __str__(self) -> str:
        return f"{self.lou.reference} v{self.number}"


class Signature(models.Model):
    """A party's signature of the draft (MOU §44 by analogy: in force from the second signature)."""

    lou = models.ForeignKey(LetterOfUnderstanding, on_delete=models.PROTECT, related_name="signatures")
    agency = models.CharField(_("party"), max_length=8, choices=Agency.choices)
    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.PROTECT, related_name="+")
    signed_by = models.ForeignKey(User, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+")
    signatory_name = models.CharField(_("signatory"), max_length=200)
    signatory_title = models.CharField(_("signatory's title"), max_length=200, blank=True)
    signed_on = models.DateField(_("signed on"))
    content_hash = models.CharField(
        _("hash of the text signed"), max_length=64, help_text=_("The SHA-256 of the draft exactly as signed.")
    )
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    void_reason = models.CharField(_("why voided"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    history = history_records()

    class Meta:
        ordering = ["signed_on", "pk"]
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        constraints = [
            models.UniqueConstraint(
                fields=["lou", "agency"], condition=Q(voided_at__isnull=True), name="lou_one_signature_per_party"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_agency_display()}: {self.signatory_name} ({self.signed_on})"


class Amendment(models.Model):
    """A change of the text in force, proposed by one party and approved by the other (MOU §46)."""

    lou = models.ForeignKey(LetterOfUnderstanding, on_delete=models.PROTECT, related_name="amendments")
    number = models.PositiveIntegerField(_("number"))
    status = models.CharField(
        _("status"), max_length=16, choices=AmendmentStatus.choices, default=AmendmentStatus.PROPOSED
    )
    base_text_version = models.PositiveIntegerField(_("amends version"))
    proposed_by_agency = models.CharField(_("proposed by"), max_length=8, choices=Agency.choices)
    proposed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    proposed_by_client = models.ForeignKey(ApiClient, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    rationale = models.TextField(_("what changes and why"), validators=SHORT_TEXT)
    content = models.JSONField(_("proposed text"))
    effective_from = models.DateField(_("effective from"), null=True, blank=True)
    decided_by_agency = models.CharField(_("decided by"), max_length=8, choices=Agency.choices, blank=True)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True, validators=SHORT_TEXT)
    history = history_records()

    class Meta:
        ordering = ["lou", "-number"]
        verbose_name = _("amendment")
        verbose_name_plural = _("amendments")
        constraints = [
            models.UniqueConstraint(fields=["lou", "number"], name="lou_amendment_number_unique"),
            models.UniqueConstraint(fields=["lou"], condition=Q(status="proposed"), name="lou_one_open_amendment"),
        ]

    def __str__(self) -> str:
        return f"{self.lou.reference} amendment {self.number}"


class Review(TimeStampedModel):
    """A review of the LoU (MOU §47: at regular intervals, at least annually)."""

    lou = models.ForeignKey(LetterOfUnderstanding, on_delete=models.PROTECT, related_name="reviews")
    held_on = models.DateField(_("held on"))
    outcome = models.CharField(_("outcome"), max_length=16, choices=ReviewOutcome.choices)
    participants = models.TextField(_("participants"), blank=True, validators=SHORT_TEXT)
    summary = models.TextField(_("summary"), validators=LONG_TEXT)
    next_review_due = models.DateField(
        _("next review due"), help_text=_("MOU §47: at most 12 months after this review.")
    )
    recorded_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    history = history_records()

    class Meta:
        ordering = ["-held_on", "-pk"]
        verbose_name = _("review")
        verbose_name_plural = _("reviews")

    def __str__(self) -> str:
        return f"{self.lou.reference} review {self.held_on}"


class Evaluation(TimeStampedModel):
    """A monitoring report or evaluation of the joint projects (MOU §38)."""

    lou = models.ForeignKey(LetterOfUnderstanding, on_delete=models.PROTECT, related_name="evaluations")
    kind = models.CharField(_("kind"), max_length=16, choices=EvaluationKind.choices)
    title = models.CharField(_("title"), max_length=200)
    carried_out_on = models.DateField(_("date"))
    carried_out_by = models.CharField(_("carried out by"), max_length=200, blank=True)
    findings = models.TextField(_("findings"), validators=LONG_TEXT)
    corrective_measures = models.TextField(
        _("corrective measures"), blank=True, validators=SHORT_TEXT, help_text=_("MOU §38: timely corrective measures.")
    )
    recorded_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    history = history_records()

    class Meta:
        ordering = ["-carried_out_on", "-pk"]
        verbose_name = _("monitoring or evaluation")
        verbose_name_plural = _("monitoring and evaluations")

    def __str__(self) -> str:
        return self.title


class PhaseOutPlan(TimeStampedModel):
    """MOU §39: a mutually agreeable plan for phase-out, before the agreed conclusion or as soon as either agency
    expects resources to be insufficient. Agreed once both parties have agreed to the same plan; any change to it
    needs both agreements again."""

    lou = models.OneToOneField(LetterOfUnderstanding, on_delete=models.PROTECT, related_name="phase_out_plan")
    summary = models.TextField(_("summary"), validators=LONG_TEXT)
    status = models.CharField(_("status"), max_length=8, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    unhcr_agreed_on = models.DateField(_("agreed by UNHCR on"), null=True, blank=True)
    unhcr_agreed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    iom_agreed_on = models.DateField(_("agreed by IOM on"), null=True, blank=True)
    iom_agreed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1, editable=False)
    history = history_records()

    class Meta:
        verbose_name = _("phase-out plan")
        verbose_name_plural = _("phase-out plans")

    def __str__(self) -> str:
        return f"{self.lou.reference} phase-out plan"

    @property
    def is_agreed(self) -> bool:
        return self.status == PlanStatus.AGREED


class PhaseOutAction(models.Model):
    """One action of the phase-out plan, with its owner and date (MOU §39)."""

    plan = models.ForeignKey(PhaseOutPlan, on_delete=models.CASCADE, related_name="actions")
    description = models.TextField(_("action"), validators=SHORT_TEXT)
    owner_agency = models.CharField(_("agency responsible"), max_length=8, choices=Agency.choices)
    owner = models.CharField(_("owner"), max_length=200, help_text=_("The unit or post responsible."))
    due_on = models.DateField(_("due on"))
    done_on = models.DateField(_("done on"), null=True, blank=True)
    history = history_records()

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("phase-out action")
        verbose_name_plural = _("phase-out actions")

    def __str__(self) -> str:
        return self.description[:80]


class Obligation(TimeStampedModel):
    """MOU §40: each agency remains responsible for the obligations or liabilities it incurred."""

    lou = models.ForeignKey(LetterOfUnderstanding, on_delete=models.PROTECT, related_name="obligations")
    agency = models.CharField(_("agency"), max_length=8, choices=Agency.choices)
    description = models.TextField(_("obligation or liability"), validators=SHORT_TEXT)
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    currency = models.CharField(_("currency"), max_length=3, blank=True, validators=[currency_validator])
    due_on = models.DateField(_("due on"), null=True, blank=True)
    settled_on = models.DateField(_("settled on"), null=True, blank=True)
    history = history_records()

    class Meta:
        ordering = ["agency", "pk"]
        verbose_name = _("outstanding obligation")
        verbose_name_plural = _("outstanding obligations")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | ~Q(currency=""),
                name="obligation_amount_has_currency",
                violation_error_message=_("Give the currency of the amount."),
            ),
        ]

    def __str__(self) -> str:
        return self.description[:80]


class HandoverItem(TimeStampedModel):
    """An asset, inventory item or resource remaining at the conclusion (MOU §40), with its value and donor
    restriction; handed over free of charge only where the donor agreement permits."""

    lou = models.ForeignKey(LetterOfUnderstanding, on_delete=models.PROTECT, related_name="handover_items")
    owner_agency = models.CharField(_("owned by"), max_length=8, choices=Agency.choices)
    description = models.CharField(_("asset, inventory or resource"), max_length=300)
    quantity = models.PositiveIntegerField(_("quantity"), default=1, validators=[MinValueValidator(1)])
    value = models.DecimalField(
        _("value"), max_digits=14, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    currency = models.CharField(_("currency"), max_length=3, blank=True, validators=[currency_validator])
    donor = models.CharField(_("donor"), max_length=200, blank=True)
    donor_restriction = models.TextField(
        _("donor restriction"), blank=True, validators=SHORT_TEXT, help_text=_("What the donor agreement says.")
    )
    donor_permits_handover = models.BooleanField(
        _("donor agreement permits free handover"),
        default=False,
        help_text=_("MOU §40: a free handover is considered only if agreements with donors so permit."),
    )
    status = models.CharField(_("status"), max_length=16, choices=HandoverStatus.choices, default=HandoverStatus.LISTED)
    recipient_kind = models.CharField(_("recipient"), max_length=24, choices=RecipientKind.choices, blank=True)
    recipient_name = models.CharField(_("recipient's name"), max_length=200, blank=True)
    handed_over_on = models.DateField(_("handed over on"), null=True, blank=True)
    history = history_records()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("asset for handover")
        verbose_name_plural = _("assets for handover")
        constraints = [
            models.CheckConstraint(
                condition=Q(value__isnull=True) | ~Q(currency=""),
                name="handover_value_has_currency",
                violation_error_message=_("Give the currency of the value."),
            ),
            # MOU §40: the database refuses a handover the donor agreement does not permit, whatever the caller.
            models.CheckConstraint(
                condition=~Q(status=HandoverStatus.HANDED_OVER) | Q(donor_permits_handover=True),
                name="handover_only_if_donor_permits",
                violation_error_message=_("MOU §40: the donor agreement does not permit a free handover."),
            ),
        ]

    def __str__(self) -> str:
        return self.description


class LouEvent(models.Model):
    """The timeline of an LoU: who did what, for which party, when."""

    lou = models.ForeignKey(LetterOfUnderstanding, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("event"), max_length=32, choices=EventKind.choices)
    agency = models.CharField(_("party"), max_length=8, choices=Agency.choices, blank=True)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    api_client = models.ForeignKey(ApiClient, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), auto_now_add=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("LoU event")
        verbose_name_plural = _("LoU events")

    def __str__(self) -> str:
        return f"{self.lou.reference}: {self.get_kind_display()}"
