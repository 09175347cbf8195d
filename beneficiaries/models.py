"""The people both agencies serve (MOU §4–§19), their households, documents and category history."""

from django.core.validators import MaxLengthValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from beneficiaries.choices import (
    CategoryCode,
    DocumentType,
    MandateRole,
    Relationship,
    Sex,
    SharingBasis,
    SpecificNeed,
)
from beneficiaries.querysets import BeneficiaryQuerySet, HouseholdQuerySet
from jointops.audit import history_records
from jointops.models import Office, Organisation, TimeStampedModel, User


class BeneficiaryCategory(models.Model):
    """One of the categories of MOU §4. Reference data (data migration); administrators edit it in the admin."""

    code = models.CharField(_("code"), max_length=32, unique=True, choices=CategoryCode.choices)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    mou_paragraphs = models.CharField(_("MOU paragraphs"), max_length=50, help_text=_("e.g. MOU §4, §7–§8"))
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    history = history_records()

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("beneficiary category")
        verbose_name_plural = _("beneficiary categories")

    def __str__(self) -> str:
        return str(CategoryCode(self.code).label) if self.code in CategoryCode.values else self.name


class Mandate(models.Model):
    """An organisation's role for a category, with the paragraph it rests on (the mandate matrix)."""

    category = models.ForeignKey(
        BeneficiaryCategory, verbose_name=_("category"), on_delete=models.CASCADE, related_name="mandates"
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="mandates"
    )
    role = models.CharField(_("role"), max_length=16, choices=MandateRole.choices)
    services = models.TextField(_("what it covers"))
    paragraph = models.CharField(_("source"), max_length=50, help_text=_("e.g. MOU §7"))
    history = history_records()

    class Meta:
        ordering = ["category__order", "organisation__code"]
        constraints = [models.UniqueConstraint(fields=["category", "organisation"], name="mandate_one_per_org")]
        verbose_name = _("mandate")
        verbose_name_plural = _("mandates")

    def __str__(self) -> str:
        return f"{self.organisation} — {self.category}: {self.get_role_display()} ({self.paragraph})"


class Household(TimeStampedModel):
    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.PROTECT, related_name="households")
    reference = models.CharField(_("reference"), max_length=40, unique=True)
    head = models.OneToOneField(
        "Beneficiary",
        verbose_name=_("head of household"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="headed_household",
    )
    notes = models.TextField(_("notes"), blank=True, validators=[MaxLengthValidator(2000)])
    version = models.PositiveIntegerField(default=1)
    history = history_records()

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("household")
        verbose_name_plural = _("households")

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse("beneficiaries:household_detail", args=[self.pk])


class Beneficiary(TimeStampedModel):
    """A person served by either agency. Belongs to the office that registered them."""

    office = models.ForeignKey(
        Office, verbose_name=_("registering office"), on_delete=models.PROTECT, related_name="beneficiaries"
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("registering organisation"),
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    given_name = models.CharField(_("given name"), max_length=100)
    family_name = models.CharField(_("family name"), max_length=100)
    other_names = models.TextField(
        _("other names and spellings"),
        blank=True,
        validators=[MaxLengthValidator(1000)],
        help_text=_("One per line: aliases, former names, other spellings and transliterations."),
    )
    sex = models.CharField(_("sex"), max_length=8, choices=Sex.choices, default=Sex.UNKNOWN)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    date_of_birth_estimated = models.BooleanField(_("date of birth is estimated"), default=False)
    nationality = CountryField(_("nationality"), blank=True)
    country_of_residence = CountryField(_("country of residence or asylum"), blank=True)
    category = models.ForeignKey(
        BeneficiaryCategory, verbose_name=_("current category"), on_delete=models.PROTECT, related_name="+"
    )
    of_concern_to_unhcr = models.BooleanField(
        _("person of concern to UNHCR"),
        default=False,
        help_text=_("Letter of 16 January 2003: brings the additional measures configured for the office."),
    )
    unhcr_registration_number = models.CharField(_("UNHCR registration number"), max_length=40, blank=True)
    iom_case_number = models.CharField(_("IOM case number"), max_length=40, blank=True)
    government_id = models.CharField(_("government ID"), max_length=60, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    address = models.TextField(_("address"), blank=True, validators=[MaxLengthValidator(500)])
    preferred_language = models.CharField(_("preferred language"), max_length=40, blank=True)
    specific_needs = models.JSONField(
        _("specific needs"), default=list, blank=True, help_text=_("From a short fixed list; no medical details.")
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    relationship_to_head = models.CharField(
        _("relationship to the head of household"), max_length=16, choices=Relationship.choices, blank=True
    )
    # Legitimate basis for sharing the record with the other agency (data-protection policies of both).
    sharing_basis = models.CharField(
        _("basis for sharing with the other agency"),
        max_length=32,
        choices=SharingBasis.choices,
        default=SharingBasis.NONE,
    )
    consent_date = models.DateField(_("consent given on"), null=True, blank=True)
    consent_scope = models.CharField(_("scope of consent"), max_length=200, blank=True)
    sharing_basis_note = models.CharField(_("basis details or evidence"), max_length=300, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_records",
        help_text=_("Set when this record was found to be a duplicate and merged into another."),
    )
    # Derived, for search and duplicate detection (see beneficiaries/matching.py); kept by the services.
    name_key = models.CharField(max_length=200, editable=False, default="")  # indexed with date_of_birth
    family_key = models.CharField(max_length=100, editable=False, default="")
    search_text = models.TextField(editable=False, default="")
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Issue 8: set when the record was anonymised (retention over, or a deletion request granted); irreversible.
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True, editable=False)
    history = history_records(excluded_fields=["name_key", "family_key", "search_text"])

    objects = BeneficiaryQuerySet.as_manager()

    class Meta:
        ordering = ["-pk"]
        indexes = [
            models.Index(fields=["family_key", "nationality"], name="benef_family_key_nat"),
            # name_key lookups, and (name key, date of birth) pairs: the duplicate check of imports, per batch.
            models.Index(fields=["name_key", "date_of_birth"], name="benef_name_key_dob"),
            models.Index(fields=["unhcr_registration_number"], name="benef_unhcr_regno"),
            models.Index(fields=["iom_case_number"], name="benef_iom_caseno"),
            models.Index(fields=["government_id"], name="benef_gov_id"),
            models.Index(fields=["office", "-updated_at"], name="benef_office_updated"),
        ]
        verbose_name = _("person")
        verbose_name_plural = _("people")

    def __str__(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def get_absolute_url(self) -> str:
        return reverse("beneficiaries:beneficiary_detail", args=[self.pk])

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def specific_need_labels(self) -> list[str]:
        return [str(SpecificNeed(n).label) for n in self.specific_needs if n in SpecificNeed.values]


class CategoryChange(models.Model):
    """Dated history of a person's category (asylum-seeker → rejected asylum-seeker → returnee)."""

    beneficiary = models.ForeignKey(
        Beneficiary, verbose_name=_("person"), on_delete=models.CASCADE, related_name="category_changes"
    )
    category = models.ForeignKey(BeneficiaryCategory, verbose_name=_("category"), on_delete=models.PROTECT)
    effective_date = models.DateField(_("effective from"))
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["-effective_date", "-pk"]
        verbose_name = _("category change")
        verbose_name_plural = _("category changes")

    def __str__(self) -> str:
        return f"{self.category} from {self.effective_date}"


class IdentityDocument(TimeStampedModel):
    beneficiary = models.ForeignKey(
        Beneficiary, verbose_name=_("person"), on_delete=models.CASCADE, related_name="documents"
    )
    document_type = models.CharField(_("type"), max_length=32, choices=DocumentType.choices)
    number = models.CharField(_("number"), max_length=60)
    issuing_country = CountryField(_("issuing country"), blank=True)
    expiry_date = models.DateField(_("expiry date"), null=True, blank=True)
    history = history_records()

    class Meta:
        ordering = ["document_type", "pk"]
        verbose_name = _("identity or travel document")
        verbose_name_plural = _("identity and travel documents")

    def __str__(self) -> str:
        return f"{self.get_document_type_display()} {self.number}"


class BeneficiaryShare(models.Model):
    """A record shared with an office of the other agency, on the recorded legitimate basis."""

    beneficiary = models.ForeignKey(Beneficiary, on_delete=models.CASCADE, related_name="shares")
    office = models.ForeignKey(Office, verbose_name=_("shared with"), on_delete=models.PROTECT, related_name="+")
    basis = models.CharField(_("basis"), max_length=32, choices=SharingBasis.choices)
    shared_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    shared_at = models.DateTimeField(_("shared at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["beneficiary", "office"], name="share_once_per_office")]
        verbose_name = _("share")
        verbose_name_plural = _("shares")

    def __str__(self) -> str:
        return f"{self.beneficiary_id} → {self.office_id}"


class ImportJob(TimeStampedModel):
    """An upload of people from CSV/XLSX: validated in full, then written all-or-nothing (maybe by Celery)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        VALIDATING = "validating", _("Validating")
        FAILED = "failed", _("Refused: errors found")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Imported")
        ERROR = "error", _("Stopped by an unexpected error")

    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    api_client = models.ForeignKey(
        "jointops.ApiClient", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file_name = models.CharField(max_length=200)
    file = models.FileField(upload_to="imports/")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    duplicates = models.JSONField(default=list, blank=True)
    # The report keeps at most importing.REPORT_LIMIT entries of each list; the counts are complete.
    error_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    language = models.CharField(max_length=16, blank=True)  # of the importer: the report's messages
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"import {self.pk} ({self.status})"
