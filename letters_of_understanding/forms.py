"""Browser forms of Letters of Understanding: input shape only.

The rules (who may perform which act, when; the 90 days of MOU §45; the 12 months of MOU §47; the donor's
permission of MOU §40; what a complete text is, MOU §5) live in letters_of_understanding.lifecycle and .services;
views validate a form, call the service and turn a `DomainError` into a form error on the field it names. Field
names are the services' names, so a refusal lands on the field it is about.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from beneficiaries.models import BeneficiaryCategory
from jointops.forms import OfficeChoiceField
from jointops.models import Office
from letters_of_understanding import content as text
from letters_of_understanding.choices import (
    ActivityKind,
    Agency,
    EvaluationKind,
    HandoverStatus,
    RecipientKind,
    ReviewOutcome,
)

MAX_VERSION = 2**63 - 1
MAX_AMOUNT = Decimal("999999999999.99")
SHORT, LONG = 4000, 20000


class DateInput(forms.DateInput):
    """The browser's date picker; the value travels as ISO 8601 (YYYY-MM-DD) whatever the language."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def _date(label, *, required: bool = False, help_text="", not_future: bool = False) -> forms.DateField:
    field = forms.DateField(label=label, required=required, widget=DateInput(), help_text=help_text)
    field.not_future = not_future
    return field


def _text(label, *, max_length: int, rows: int = 3, required: bool = False, help_text="") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        widget=forms.Textarea(attrs={"rows": rows}),
        help_text=help_text,
    )


def _agency(label, *, help_text="") -> forms.ChoiceField:
    return forms.ChoiceField(label=label, choices=[("", _("Choose an agency")), *Agency.choices], help_text=help_text)


def _amount(label, *, help_text="") -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=14,
        decimal_places=2,
        min_value=0,
        max_value=MAX_AMOUNT,
        required=False,
        help_text=help_text,
    )


def _currency() -> forms.CharField:
    return forms.CharField(
        label=_("Currency"),
        max_length=3,
        required=False,
        widget=forms.TextInput(attrs={"size": 4, "autocomplete": "off"}),
        help_text=_("The three-letter ISO 4217 code, e.g. USD."),
    )


class LouForm(forms.Form):
    """Dates the user cannot give in the future get the picker's maximum; currencies travel upper-case."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate().isoformat()
        for field in self.fields.values():
            if getattr(field, "not_future", False):
                field.widget.attrs["max"] = today

    def clean_currency(self) -> str:
        return (self.cleaned_data.get("currency") or "").strip().upper()


# --- The text of the letter (MOU §5, §37, §38) ----------------------------------------------------------------


class CategoryChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: BeneficiaryCategory) -> str:
        return str(obj)


class LouTextForm(LouForm):
    """The scalar part of the text: what the draft form, the edit form and an amendment share."""

    title = forms.CharField(label=_("Title"), max_length=200)
    operational_situation = _text(
        _("Operational situation"),
        max_length=SHORT,
        required=True,
        help_text=_("MOU §5: the operational situation this letter expands the MOU for."),
    )
    countries = forms.MultipleChoiceField(
        label=_("Countries"),
        choices=countries,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("Hold Ctrl (or ⌘ on a Mac) to choose several."),
    )
    region = forms.CharField(label=_("Region"), max_length=200, required=False)
    other_parties = _text(_("Other parties"), max_length=SHORT, help_text=_("Optional, e.g. a government ministry."))
    categories = CategoryChoiceField(
        label=_("Beneficiary categories covered"),
        queryset=BeneficiaryCategory.objects.all(),
        to_field_name="code",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    start_date = _date(_("Start date"), required=True)
    end_date = _date(
        _("Agreed end date"),
        help_text=_("MOU §39: a phase-out plan agreed by both parties is needed before this date."),
    )
    institutional_framework = _text(
        _("Institutional framework for cooperation"),
        max_length=LONG,
        rows=4,
        help_text=_("MOU §5: how the two agencies cooperate in this situation (committees, focal points)."),
    )
    linkages = _text(
        _("Linkages between the two agencies' activities"),
        max_length=LONG,
        rows=4,
        help_text=_("MOU §5: how the activities of UNHCR and IOM connect."),
    )
    monitoring_procedures = _text(
        _("Monitoring procedures"),
        max_length=LONG,
        help_text=_("MOU §38: agreed procedures that let both managements control the joint activities."),
    )
    evaluation_arrangements = _text(
        _("Evaluation arrangements"),
        max_length=LONG,
        help_text=_("MOU §38: guidelines and methodology for evaluating the joint projects."),
    )

    TEXT_FIELDS = (
        "title",
        "operational_situation",
        "countries",
        "region",
        "other_parties",
        "categories",
        "start_date",
        "end_date",
        "institutional_framework",
        "linkages",
        "monitoring_procedures",
        "evaluation_arrangements",
    )

    def fieldsets(self) -> list[tuple[Any, list]]:
        groups = (
            (_("Parties"), ("unhcr_office", "iom_office")),
            (_("The amendment (MOU §46)"), ("rationale", "effective_from")),
            (
                _("The letter"),
                (
                    "title",
                    "operational_situation",
                    "countries",
                    "region",
                    "other_parties",
                    "start_date",
                    "end_date",
                    "categories",
                ),
            ),
            (_("What the letter sets out (MOU §5)"), ("institutional_framework", "linkages")),
            (_("Monitoring and evaluation (MOU §38)"), ("monitoring_procedures", "evaluation_arrangements")),
        )
        return [
            (title, [self[name] for name in names if name in self.fields])
            for title, names in groups
            if any(name in self.fields for name in names)
        ]

    def draft_fields(self) -> dict[str, Any]:
        """The cleaned text as lou_create / lou_update take it (categories apart)."""
        data = {name: self.cleaned_data[name] for name in self.TEXT_FIELDS if name != "categories"}
        data["countries"] = list(data["countries"])
        return data

    def content_scalars(self) -> dict[str, Any]:
        """The cleaned text as part of a content dict (letters_of_understanding.content)."""
        data = self.cleaned_data
        content: dict[str, Any] = {name: data[name] for name in text.SCALAR_FIELDS}
        content["countries"] = sorted(data["countries"])
        content["categories"] = sorted(category.code for category in data["categories"])
        content["start_date"] = data["start_date"].isoformat()
        content["end_date"] = data["end_date"].isoformat() if data["end_date"] else None
        return content


class LouCreateForm(LouTextForm):
    unhcr_office = OfficeChoiceField(
        label=_("UNHCR office"), queryset=Office.objects.none(), empty_label=_("Choose an office")
    )
    iom_office = OfficeChoiceField(
        label=_("IOM office"), queryset=Office.objects.none(), empty_label=_("Choose an office")
    )

    def __init__(self, *args, unhcr_offices=None, iom_offices=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unhcr_office"].queryset = unhcr_offices if unhcr_offices is not None else Office.objects.none()
        self.fields["iom_office"].queryset = iom_offices if iom_offices is not None else Office.objects.none()
        self.fields["unhcr_office"].help_text = _("MOU §5: a letter is agreed between a UNHCR and an IOM office.")
        self.order_fields(["unhcr_office", "iom_office"])


class LouUpdateForm(LouTextForm):
    # The version the editor loaded: a save over someone else's change is refused (lou_update).
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=MAX_VERSION)


# --- Rows of the text: activities (MOU §5), funding (§36), secondments (§37) ------------------------------------


class ActivityForm(LouForm):
    kind = forms.ChoiceField(
        label=_("Kind of activity"),
        choices=[("", _("Choose a kind")), *ActivityKind.choices],
        help_text=_("The MOU's types of cooperative activities (MOU §20-§35)."),
    )
    agency = _agency(_("Responsible agency"))
    description = _text(_("Description"), max_length=SHORT, required=True)
    indicators = _text(_("Indicators"), max_length=SHORT, rows=2)


class FundingForm(LouForm):
    agency = _agency(_("Agency"), help_text=_("MOU §36: each agency mobilises its own resources."))
    source = forms.CharField(label=_("Source or donor"), max_length=200)
    amount = _amount(_("Amount"))
    currency = _currency()
    joint_appeal = forms.BooleanField(
        label=_("Joint appeal"),
        required=False,
        help_text=_("MOU §36: joint resource mobilisation or a UN consolidated appeal."),
    )


class SecondmentForm(LouForm):
    from_agency = _agency(_("Seconded by"), help_text=_("MOU §37: the agencies assist each other with staff."))
    position = forms.CharField(label=_("Position"), max_length=200)
    number = forms.IntegerField(label=_("Number of staff"), min_value=1, max_value=1000, initial=1)
    start_on = _date(_("From"))
    end_on = _date(_("Until"))


ROW_FORMS: dict[str, type[LouForm]] = {
    "activities": ActivityForm,
    "funding": FundingForm,
    "secondments": SecondmentForm,
}
ROW_FIELDS = {
    "activities": text.ACTIVITY_FIELDS,
    "funding": text.FUNDING_FIELDS,
    "secondments": text.SECONDMENT_FIELDS,
}


def _row_content(collection: str, data: dict[str, Any]) -> dict[str, Any]:
    """One cleaned row as an item of the content dict (JSON values: dates as ISO, amounts as strings)."""
    item = {}
    for name in ROW_FIELDS[collection]:
        value = data.get(name)
        if isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = f"{value:.2f}"
        elif value == "" and name in ("amount", "start_on", "end_on"):
            value = None
        item[name] = value
    return item


def row_formsets(data=None, *, content: dict[str, Any] | None = None) -> dict[str, forms.BaseFormSet]:
    """The three collections of the text as formsets (prefixes "activities", "funding", "secondments"), prefilled
    from `content`; one empty row each for an addition, and a "remove" box on every row."""
    formsets = {}
    for collection, form_class in ROW_FORMS.items():
        formset_class = forms.formset_factory(
            form_class,
            extra=1,
            can_delete=True,
            max_num=text.MAX_ITEMS,
            validate_max=True,
            absolute_max=text.MAX_ITEMS,
        )
        initial = list((content or {}).get(collection, []))
        formsets[collection] = formset_class(data=data, initial=initial, prefix=collection)
    return formsets


ROW_ERROR = re.compile(r"^(activities|funding|secondments)\[(\d+)\]\.(\w+)$")


def amendment_content(form: LouTextForm, formsets: dict[str, forms.BaseFormSet]):
    """The proposed text from a valid form and valid formsets: (content dict, {collection: [the form of each item]}),
    so that an error the service names, e.g. "activities[1].kind", can be put on the row it is about."""
    content = form.content_scalars()
    rows: dict[str, list[forms.Form]] = {}
    for collection, formset in formsets.items():
        items, row_forms = [], []
        deleted = {id(row) for row in formset.deleted_forms}
        for index, row in enumerate(formset.forms):
            if id(row) in deleted:
                continue
            if index >= formset.initial_form_count() and not row.has_changed():
                continue  # the empty row offered for an addition, left empty
            items.append(_row_content(collection, row.cleaned_data))
            row_forms.append(row)
        content[collection] = items
        rows[collection] = row_forms
    return content, rows


def place_content_error(field: str | None, message: str, form: forms.Form, rows: dict[str, list[forms.Form]]) -> None:
    """Put a refusal of the proposed text on the row and field it names, else on the form."""
    match = ROW_ERROR.match(field or "")
    if match:
        collection, index, name = match.group(1), int(match.group(2)), match.group(3)
        forms_of = rows.get(collection, [])
        if index < len(forms_of):
            row = forms_of[index]
            row.add_error(name if name in row.fields else None, message)
            form.add_error(None, _("A row of the text needs correcting: see below."))
            return
    if field in form.fields:
        form.add_error(field, message)
        return
    label = text.LABELS.get(field or "")
    form.add_error(None, f"{label}: {message}" if label else message)


# --- Amendments (MOU §46) -------------------------------------------------------------------------------------


class AmendmentProposeForm(LouTextForm):
    rationale = _text(
        _("What changes and why"),
        max_length=SHORT,
        required=True,
        help_text=_("MOU §46: the other party reads this before approving or rejecting the amendment."),
    )
    effective_from = _date(
        _("Effective from"),
        help_text=_("Optional: the amended text takes effect on this date, or on approval if later."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(["rationale", "effective_from"])


class AmendmentDecisionForm(LouForm):
    note = _text(_("Note"), max_length=SHORT)

    def __init__(self, *args, note_required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["note"].required = note_required
        if note_required:
            self.fields["note"].label = _("Why the amendment is rejected")


# --- The acts of the lifecycle ----------------------------------------------------------------------------------


class SignForm(LouForm):
    # The draft the signatory read: a signature over a text changed since is refused (lou_sign).
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=MAX_VERSION)
    signatory_name = forms.CharField(label=_("Signatory"), max_length=200)
    signatory_title = forms.CharField(label=_("Signatory's title"), max_length=200, required=False)
    signed_on = _date(_("Signed on"), required=True, not_future=True)


class ReasonForm(LouForm):
    reason = _text(_("Reason"), max_length=SHORT, required=True)


class NoticeForm(LouForm):
    served_on = _date(_("Notice served on"), required=True, not_future=True)
    effective_on = _date(
        _("Termination takes effect on"),
        help_text=_(
            "MOU §45: either party may terminate on 90 days' written notice; the termination takes effect at "
            "least 90 days after the notice. Leave empty for exactly 90 days."
        ),
    )
    reason = _text(_("Reason for termination"), max_length=SHORT, required=True)


class ReviewForm(LouForm):
    held_on = _date(_("Held on"), required=True, not_future=True)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=[("", _("Choose the outcome")), *ReviewOutcome.choices])
    participants = _text(_("Participants"), max_length=SHORT, rows=2)
    summary = _text(_("Summary"), max_length=LONG, rows=4, required=True)
    next_review_due = _date(
        _("Next review due"),
        help_text=_("MOU §47: at least annually — at most 12 months after this review. Leave empty for 12 months."),
    )


class EvaluationForm(LouForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=EvaluationKind.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    carried_out_on = _date(_("Date"), required=True, not_future=True)
    carried_out_by = forms.CharField(label=_("Carried out by"), max_length=200, required=False)
    findings = _text(_("Findings"), max_length=LONG, rows=4, required=True)
    corrective_measures = _text(
        _("Corrective measures"), max_length=SHORT, help_text=_("MOU §38: timely corrective measures.")
    )


class FlagResourcesForm(LouForm):
    note = _text(
        _("Why resources will be insufficient"),
        max_length=SHORT,
        required=True,
        help_text=_(
            "MOU §39: as soon as either agency expects resources to be insufficient, a phase-out plan agreed by "
            "both parties is prepared."
        ),
    )


class PlanAgreeForm(LouForm):
    # The plan the manager read: an agreement to a plan changed since is refused (phase_out_plan_agree).
    plan_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=MAX_VERSION)


class ConfirmForm(LouForm):
    """An act that takes no input: the button confirms it."""


# --- Phase-out (MOU §39) and settlement (MOU §40) ---------------------------------------------------------------


class PlanForm(LouForm):
    summary = _text(
        _("Summary of the phase-out"),
        max_length=LONG,
        rows=5,
        required=True,
        help_text=_("MOU §39: a mutually agreeable plan; any change after agreement needs both agreements again."),
    )


class PlanActionForm(LouForm):
    description = _text(_("Action"), max_length=SHORT, required=True, rows=2)
    owner_agency = _agency(_("Agency responsible"))
    owner = forms.CharField(label=_("Owner"), max_length=200, help_text=_("The unit or post responsible."))
    due_on = _date(_("Due on"), required=True)
    done_on = _date(_("Done on"), not_future=True, help_text=_("Recording progress does not reopen the plan."))


class ObligationForm(LouForm):
    description = _text(_("Obligation or liability"), max_length=SHORT, required=True, rows=2)
    amount = _amount(_("Amount"))
    currency = _currency()
    due_on = _date(_("Due on"))
    settled_on = _date(_("Settled on"), not_future=True)


class HandoverItemForm(LouForm):
    description = forms.CharField(label=_("Asset, inventory or resource"), max_length=300)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=2_000_000_000, initial=1)
    value = _amount(_("Value"))
    currency = _currency()
    donor = forms.CharField(label=_("Donor"), max_length=200, required=False)
    donor_restriction = _text(_("Donor restriction"), max_length=SHORT, help_text=_("What the donor agreement says."))
    donor_permits_handover = forms.BooleanField(
        label=_("The donor agreement permits a free handover"),
        required=False,
        help_text=_("MOU §40: a free handover is considered only if agreements with donors so permit."),
    )


class HandoverDecideForm(LouForm):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[(HandoverStatus.HANDED_OVER, _("Handed over")), (HandoverStatus.RETAINED, _("Retained"))],
        widget=forms.RadioSelect,
    )
    recipient_kind = forms.ChoiceField(
        label=_("Recipient"),
        choices=[("", _("Choose a recipient")), *RecipientKind.choices],
        required=False,
        help_text=_(
            "MOU §40: the agency with a continuing presence, a national institution or a suitable NGO — only where "
            "the donor agreement permits a free handover."
        ),
    )
    recipient_name = forms.CharField(label=_("Recipient's name"), max_length=200, required=False)
    handed_over_on = _date(_("Handed over on"), not_future=True)


# --- Versions (MOU §46: every version kept) ---------------------------------------------------------------------


class VersionCompareForm(forms.Form):
    left = forms.TypedChoiceField(label=_("Compare version"), coerce=int)
    right = forms.TypedChoiceField(label=_("with version"), coerce=int)

    def __init__(self, *args, numbers: list[int] = (), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(n, _("Version %(number)s") % {"number": n}) for n in numbers]
        self.fields["left"].choices = choices
        self.fields["right"].choices = choices

    def clean(self):
        data = super().clean()
        if data.get("left") is not None and data.get("left") == data.get("right"):
            self.add_error("right", _("Choose two different versions."))
        return data
