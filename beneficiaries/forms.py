"""Browser forms for people and households: input shape only. Business rules live in beneficiaries.services.

Views validate a form, call the service, and turn a `DomainError` into a form error (jointops.forms.add_domain_error);
the field names here are the services' field names, so a refusal lands on the field it is about.
"""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from beneficiaries.choices import DocumentType, Relationship, Sex, SharingBasis, SpecificNeed
from beneficiaries.models import BeneficiaryCategory
from jointops.forms import OfficeChoiceField
from jointops.models import Office

# Record numbers are database ids: a larger number cannot exist (and would overflow SQLite's integers).
MAX_RECORD_NUMBER = 2**63 - 1


def _country_choices() -> list[tuple[str, str]]:
    return [("", _("— not known —")), *((code, name) for code, name in countries)]


class DateInput(forms.DateInput):
    """The browser's date picker; the value travels as ISO 8601 (YYYY-MM-DD) whatever the language."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def _not_in_future(value) -> None:
    """Say it with the other errors of the form; the services refuse it too (MOU records are of past events)."""
    if value and value > timezone.localdate():
        raise forms.ValidationError(_("The date cannot be in the future."), code="future")


def _date_field(label, *, required: bool = False, help_text: str = "", past_only: bool = False) -> forms.DateField:
    validators = [_not_in_future] if past_only else []
    field = forms.DateField(
        label=label, required=required, widget=DateInput(), help_text=help_text, validators=validators
    )
    field.past_only = past_only
    return field


class Fieldsets:
    """`fieldsets`: (title, [bound fields]) for the template, in the order of `FIELDSETS`."""

    FIELDSETS: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def fieldsets(self):
        return [
            (title, [self[name] for name in names if name in self.fields])
            for title, names in self.FIELDSETS
            if any(name in self.fields for name in names)
        ]

    def _limit_dates_to_today(self) -> None:
        """Offer only past dates in the picker where the future makes no sense (the service checks it too)."""
        today = timezone.localdate().isoformat()
        for field in self.fields.values():
            if getattr(field, "past_only", False):
                field.widget.attrs["max"] = today


class PersonForm(Fieldsets, forms.Form):
    """The fields of a person a user enters (beneficiaries.services.EDITABLE_FIELDS)."""

    FIELDSETS = (
        (
            _("Identity"),
            (
                "given_name",
                "family_name",
                "other_names",
                "sex",
                "preferred_language",
                "date_of_birth",
                "date_of_birth_estimated",
                "nationality",
                "country_of_residence",
            ),
        ),
        (_("Registration"), ("office", "category", "category_since", "of_concern_to_unhcr", "specific_needs")),
        (_("References in other systems"), ("unhcr_registration_number", "iom_case_number", "government_id")),
        (_("Contact details"), ("phone", "email", "address")),
        (
            _("Sharing with the other agency"),
            ("sharing_basis", "consent_date", "consent_scope", "sharing_basis_note"),
        ),
    )

    given_name = forms.CharField(label=_("Given name"), max_length=100)
    family_name = forms.CharField(label=_("Family name"), max_length=100)
    other_names = forms.CharField(
        label=_("Other names and spellings"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line: aliases, former names, other spellings and transliterations."),
    )
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices, initial=Sex.UNKNOWN)
    date_of_birth = _date_field(_("Date of birth"), past_only=True)
    date_of_birth_estimated = forms.BooleanField(label=_("The date of birth is estimated"), required=False)
    nationality = forms.ChoiceField(label=_("Nationality"), choices=_country_choices, required=False)
    country_of_residence = forms.ChoiceField(
        label=_("Country of residence or asylum"), choices=_country_choices, required=False
    )
    preferred_language = forms.CharField(label=_("Preferred language"), max_length=40, required=False)
    of_concern_to_unhcr = forms.BooleanField(
        label=_("Person of concern to UNHCR"),
        required=False,
        help_text=_("Letter of 16 January 2003: brings the additional measures configured for the office."),
    )
    specific_needs = forms.MultipleChoiceField(
        label=_("Specific needs"),
        choices=SpecificNeed.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("From a short fixed list; no medical details."),
    )
    unhcr_registration_number = forms.CharField(label=_("UNHCR registration number"), max_length=40, required=False)
    iom_case_number = forms.CharField(label=_("IOM case number"), max_length=40, required=False)
    government_id = forms.CharField(label=_("Government ID"), max_length=60, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.EmailField(label=_("E-mail"), max_length=254, required=False)
    address = forms.CharField(
        label=_("Address"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    sharing_basis = forms.ChoiceField(
        label=_("Basis for sharing with the other agency"),
        choices=SharingBasis.choices,
        initial=SharingBasis.NONE,
        help_text=_("The record is shared only on a recorded legitimate basis."),
    )
    consent_date = _date_field(
        _("Consent given on"), past_only=True, help_text=_("Required when the basis is consent.")
    )
    consent_scope = forms.CharField(label=_("Scope of consent"), max_length=200, required=False)
    sharing_basis_note = forms.CharField(label=_("Basis details or evidence"), max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._limit_dates_to_today()


class BeneficiaryCreateForm(PersonForm):
    office = OfficeChoiceField(
        label=_("Registering office"),
        queryset=Office.objects.none(),
        empty_label=_("Choose an office"),
    )
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=BeneficiaryCategory.objects.all(), empty_label=_("Choose a category")
    )
    category_since = _date_field(_("In this category since"), past_only=True, help_text=_("Leave empty for today."))
    # Set by the "Save anyway" button once the user has seen the likely duplicates of these names.
    save_anyway = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, offices=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].queryset = offices if offices is not None else Office.objects.none()


class BeneficiaryUpdateForm(PersonForm):
    # The version the editor loaded: a save over someone else's change is refused (beneficiary_update).
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class CategoryChangeForm(Fieldsets, forms.Form):
    category = forms.ModelChoiceField(
        label=_("New category"), queryset=BeneficiaryCategory.objects.all(), empty_label=_("Choose a category")
    )
    effective_date = _date_field(_("Effective from"), required=True, past_only=True)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        required=False,
        help_text=_("e.g. the decision on the asylum claim, with its date."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._limit_dates_to_today()


class DocumentForm(forms.Form):
    document_type = forms.ChoiceField(label=_("Type"), choices=[("", _("Choose a type")), *DocumentType.choices])
    number = forms.CharField(label=_("Number"), max_length=60)
    issuing_country = forms.ChoiceField(label=_("Issuing country"), choices=_country_choices, required=False)
    expiry_date = _date_field(_("Expiry date"))


class MergeForm(forms.Form):
    survivor = forms.IntegerField(
        label=_("Record to keep"),
        min_value=1,
        max_value=MAX_RECORD_NUMBER,
        help_text=_("Its record number, shown on the person's page."),
    )
    duplicate = forms.IntegerField(
        label=_("Duplicate record"),
        min_value=1,
        max_value=MAX_RECORD_NUMBER,
        help_text=_("Merged into the record kept: its documents, history and links move there."),
    )

    def clean(self):
        data = super().clean()
        if data.get("survivor") and data.get("survivor") == data.get("duplicate"):
            self.add_error("duplicate", _("Choose two different records."))
        return data


class HouseholdCreateForm(forms.Form):
    head = forms.IntegerField(
        label=_("Head of household (record number)"),
        min_value=1,
        max_value=MAX_RECORD_NUMBER,
        help_text=_("Search for the person below, or enter the record number shown on their page."),
    )
    notes = forms.CharField(label=_("Notes"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))


class HouseholdMemberForm(forms.Form):
    beneficiary = forms.IntegerField(label=_("Person (record number)"), min_value=1, max_value=MAX_RECORD_NUMBER)
    relationship = forms.ChoiceField(
        label=_("Relationship to the head"),
        choices=[("", _("Choose a relationship"))] + [c for c in Relationship.choices if c[0] != Relationship.HEAD],
    )


class PersonSearchForm(forms.Form):
    """The small "find a person" box of the household pages."""

    q = forms.CharField(label=_("Find a person"), max_length=100, required=False)
