"""Return cases, repatriation operations and return agreements (MOU §12-§15, §29-§31; Letter of 16 January 2003)."""

from django.core.validators import MaxLengthValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from jointops import access
from jointops.audit import history_records
from jointops.models import ApiClient, Office, Organisation, TimeStampedModel, User
from returns.choices import AgreementKind, ClosingReason, OperationKind, OperationStatus, ReturnKind, Stage


class RepatriationOperation(TimeStampedModel):
    """An expected voluntary repatriation operation or large-scale spontaneous movement, recorded early by UNHCR
    so that IOM is informed at an early stage of planning (MOU §31)."""

    office = models.ForeignKey(Office, verbose_name=_("UNHCR office"), on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=OperationKind.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=OperationStatus.choices, default=OperationStatus.PLANNING
    )
    country_of_origin = CountryField(_("country of return"))
    host_countries = CountryField(_("host countries"), multiple=True, blank=True)
    areas_of_return = models.TextField(_("areas of return"), blank=True, validators=[MaxLengthValidator(2000)])
    expected_number = models.PositiveIntegerField(_("expected number of people"), null=True, blank=True)
    planning_started_on = models.DateField(_("planning started on"), null=True, blank=True)
    expected_start = models.DateField(_("expected start"), null=True, blank=True)
    expected_end = models.DateField(_("expected end"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True, validators=[MaxLengthValidator(4000)])
    version = models.PositiveIntegerField(default=1, editable=False)
    history = history_records()

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("repatriation operation")
        verbose_name_plural = _("repatriation operations")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("returns:operation_detail", args=[self.pk])


class ReturnAgreement(TimeStampedModel):
    """A tripartite or quadripartite return agreement (Letter: country of origin, host country, UNHCR, IOM)."""

    office = models.ForeignKey(Office, verbose_name=_("recording office"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=AgreementKind.choices)
    title = models.CharField(_("title"), max_length=200)
    country_of_origin = CountryField(_("country of origin"))
    host_country = CountryField(_("host country"))
    parties = models.ManyToManyField(Organisation, verbose_name=_("parties"), related_name="return_agreements")
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    review_date = models.DateField(
        _("review date"),
        null=True,
        blank=True,
        help_text=_("Letter: the parties intend to review this form of cooperation."),
    )
    notes = models.TextField(_("notes"), blank=True, validators=[MaxLengthValidator(4000)])
    version = models.PositiveIntegerField(default=1, editable=False)
    history = history_records(m2m_fields=[parties])

    class Meta:
        ordering = ["-valid_from", "-pk"]
        verbose_name = _("return agreement")
        verbose_name_plural = _("return agreements")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("returns:agreement_detail", args=[self.pk])


class ReturnCaseQuerySet(models.QuerySet):
    def visible_to(self, principal, action: str = access.VIEW) -> "ReturnCaseQuerySet":
        return access.restrict(self, principal, "return_case", action, office_field="lead_office")


class ReturnCase(TimeStampedModel):
    reference = models.CharField(_("reference"), max_length=40, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=32, choices=ReturnKind.choices)
    lead_office = models.ForeignKey(
        Office, verbose_name=_("lead office"), on_delete=models.PROTECT, related_name="return_cases"
    )
    stage = models.CharField(_("stage"), max_length=32, choices=Stage.choices, default=Stage.OPENED, editable=False)
    country_of_departure = CountryField(_("country of departure"))
    country_of_return = CountryField(_("country of return"))
    place_of_return = models.CharField(_("place of return"), max_length=200, blank=True)
    operation = models.ForeignKey(
        RepatriationOperation,
        verbose_name=_("repatriation operation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    agreement = models.ForeignKey(
        ReturnAgreement,
        verbose_name=_("return agreement"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    expected_departure_date = models.DateField(_("expected departure date"), null=True, blank=True)
    travel_details = models.TextField(
        _("travel details"),
        blank=True,
        validators=[MaxLengthValidator(2000)],
        help_text=_("Carrier, route, escort. No medical details."),
    )
    embarkation_point = models.CharField(_("embarkation point"), max_length=200, blank=True)
    embarked_at = models.DateTimeField(_("embarked at"), null=True, blank=True, editable=False)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True, editable=False)
    fit_to_travel = models.BooleanField(
        _("fit to travel"), null=True, blank=True, help_text=_("Yes or no only: no medical details are kept here.")
    )
    # MOU §29: return only once all possibilities to stay are exhausted.
    final_decision_date = models.DateField(_("date of the final asylum decision"), null=True, blank=True)
    possibilities_to_stay_exhausted = models.BooleanField(
        _("all possibilities to stay exhausted"),
        default=False,
        help_text=_("MOU §29: return and readmission only once all possibilities to be allowed to stay are exhausted."),
    )
    # MOU §12: conditions for the return of people not in need of international protection.
    no_conflict_with_humanitarian_concerns = models.BooleanField(
        _("no measure conflicting with either organisation's humanitarian concerns"),
        default=False,
        help_text=_("MOU §12 condition 1."),
    )
    best_interests_considered = models.BooleanField(
        _("the best interests of the individuals are taken into account"),
        default=False,
        help_text=_("MOU §12 condition 2."),
    )
    bilateral_matter_recognised = models.BooleanField(
        _("recognised as primarily a bilateral matter between the countries concerned"),
        default=False,
        help_text=_("MOU §12 condition 3."),
    )
    emergency_justification = models.TextField(
        _("emergency justification"),
        blank=True,
        editable=False,
        help_text=_(
            "Recorded when embarkation is confirmed before the person appeared on a pre-departure list "
            "delivered to UNHCR; flagged to the HQ focal points."
        ),
    )
    closing_reason = models.CharField(
        _("closing reason"), max_length=32, choices=ClosingReason.choices, blank=True, editable=False
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    history = history_records()

    objects = ReturnCaseQuerySet.as_manager()

    class Meta:
        ordering = ["-pk"]
        indexes = [
            models.Index(fields=["lead_office", "stage", "expected_departure_date"], name="case_office_stage_dep"),
            models.Index(fields=["expected_departure_date"], name="case_departure"),
            models.Index(fields=["updated_at"], name="case_updated"),
        ]
        verbose_name = _("return case")
        verbose_name_plural = _("return cases")

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse("returns:case_detail", args=[self.pk])


class ReturnCaseMember(models.Model):
    case = models.ForeignKey(ReturnCase, on_delete=models.CASCADE, related_name="members")
    beneficiary = models.ForeignKey(
        "beneficiaries.Beneficiary", verbose_name=_("person"), on_delete=models.PROTECT, related_name="case_memberships"
    )
    is_principal = models.BooleanField(_("principal applicant"), default=False)
    added_at = models.DateTimeField(auto_now_add=True)
    history = history_records()

    class Meta:
        ordering = ["-is_principal", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["case", "beneficiary"], name="case_member_once"),
            models.UniqueConstraint(fields=["case"], condition=models.Q(is_principal=True), name="case_one_principal"),
        ]
        verbose_name = _("case member")
        verbose_name_plural = _("case members")

    def __str__(self) -> str:
        return f"{self.case_id}/{self.beneficiary_id}"


class CaseTransition(models.Model):
    """One move of a case: who, when, why (the case's timeline)."""

    case = models.ForeignKey(ReturnCase, on_delete=models.CASCADE, related_name="transitions")
    transition = models.CharField(_("move"), max_length=32)
    from_stage = models.CharField(_("from"), max_length=32, choices=Stage.choices)
    to_stage = models.CharField(_("to"), max_length=32, choices=Stage.choices)
    reason = models.TextField(_("reason"), blank=True, validators=[MaxLengthValidator(2000)])
    details = models.JSONField(_("details"), default=dict, blank=True)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    api_client = models.ForeignKey(ApiClient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["at", "pk"]
        # The dashboards count moves to one stage per month (changes of mind, embarkations).
        indexes = [models.Index(fields=["to_stage", "at"], name="transition_stage_at")]
        verbose_name = _("case move")
        verbose_name_plural = _("case moves")

    def __str__(self) -> str:
        return f"{self.case_id}: {self.from_stage} → {self.to_stage}"


class AdditionalMeasure(models.Model):
    """A measure an office requires before departure of a person of concern to UNHCR (Letter: "additional
    measures may be necessary for people falling into this category"), e.g. "UNHCR counselling offered"."""

    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="additional_measures")
    label = models.CharField(_("measure"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["office", "pk"]
        verbose_name = _("additional measure")
        verbose_name_plural = _("additional measures")

    def __str__(self) -> str:
        return self.label


class CaseMeasure(models.Model):
    case = models.ForeignKey(ReturnCase, on_delete=models.CASCADE, related_name="measures")
    measure = models.ForeignKey(AdditionalMeasure, on_delete=models.PROTECT, related_name="+")
    done_on = models.DateField(_("done on"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    done_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "measure"], name="case_measure_once")]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.measure_id}"


class ReintegrationVisit(models.Model):
    case = models.ForeignKey(ReturnCase, on_delete=models.CASCADE, related_name="visits")
    visited_on = models.DateField(_("visited on"))
    outcome = models.TextField(_("outcome"), validators=[MaxLengthValidator(2000)])
    recorded_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    history = history_records()

    class Meta:
        ordering = ["-visited_on", "-pk"]
        verbose_name = _("reintegration visit")
        verbose_name_plural = _("reintegration visits")

    def __str__(self) -> str:
        return f"{self.case_id} {self.visited_on}"
