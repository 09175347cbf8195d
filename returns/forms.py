"""Browser forms of return cases, repatriation operations and return agreements: input shape only.

Business rules (the stage machine and its guards, who may do what) live in returns.flow and returns.services;
views validate a form, call the service and turn a `DomainError` into a form error with
jointops.forms.add_domain_error. Field names are the services' names, so a refusal lands on the field it is about.
"""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from jointops.forms import OfficeChoiceField
from jointops.models import Office, Organisation
from returns.choices import (
    NOT_IN_NEED_OF_PROTECTION_KINDS,
    AgreementKind,
    ClosingReason,
    OperationKind,
    OperationStatus,
    ReturnKind,
)
from returns.models import RepatriationOperation, ReturnAgreement

# Record numbers are database ids: a larger number cannot exist (and would overflow SQLite's integers).
MAX_RECORD_NUMBER = 2**63 - 1
MAX_EXTRA_MEMBERS = 20


class DateInput(forms.DateInput):
    """The browser's date picker; the value travels as ISO 8601 (YYYY-MM-DD) whatever the language."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def _date(label, *, required: bool = False, help_text="") -> forms.DateField:
    return forms.DateField(label=label, required=required, widget=DateInput(), help_text=help_text)


def _country_choices() -> list[tuple[str, str]]:
    return [("", _("Choose a country")), *((code, name) for code, name in countries)]


def _text(label, *, max_length: int, rows: int = 3, required: bool = False, help_text="") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        widget=forms.Textarea(attrs={"rows": rows}),
        help_text=help_text,
    )


class OperationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: RepatriationOperation) -> str:
        return f"#{obj.pk} {obj.title}"


class AgreementChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ReturnAgreement) -> str:
        return f"#{obj.pk} {obj.title}"


FIT_TO_TRAVEL_CHOICES = [("", _("Not recorded yet")), ("true", _("Yes")), ("false", _("No"))]


def _fit_to_travel(value):
    return {"true": True, "false": False}.get(value)


# --- Return cases ---------------------------------------------------------------------------------------


class CaseDetailsForm(forms.Form):
    """The details of a case (returns.services.CASE_FIELDS). Fields a kind does not use are left out."""

    country_of_departure = forms.ChoiceField(label=_("Country of departure"), choices=_country_choices)
    country_of_return = forms.ChoiceField(label=_("Country of return"), choices=_country_choices)
    place_of_return = forms.CharField(label=_("Place of return"), max_length=200, required=False)
    operation = OperationChoiceField(
        label=_("Repatriation operation"),
        queryset=RepatriationOperation.objects.none(),
        required=False,
        empty_label=_("— none —"),
        help_text=_("MOU §31: voluntary repatriation cases belong to the operation UNHCR recorded."),
    )
    agreement = AgreementChoiceField(
        label=_("Return agreement"),
        queryset=ReturnAgreement.objects.none(),
        required=False,
        empty_label=_("— none —"),
        help_text=_("Letter: the tripartite or quadripartite agreement this return is made under."),
    )
    travel_details = _text(
        _("Travel details"), max_length=2000, help_text=_("Carrier, route, escort. No medical details.")
    )
    embarkation_point = forms.CharField(label=_("Embarkation point"), max_length=200, required=False)
    fit_to_travel = forms.TypedChoiceField(
        label=_("Fit to travel"),
        choices=FIT_TO_TRAVEL_CHOICES,
        coerce=_fit_to_travel,
        empty_value=None,
        required=False,
        help_text=_("Yes or no only: no medical details are kept here."),
    )
    # MOU §29
    final_decision_date = _date(
        _("Date of the final asylum decision"),
        help_text=_("MOU §29: a rejected asylum-seeker returns only after the final decision."),
    )
    possibilities_to_stay_exhausted = forms.BooleanField(
        label=_("All possibilities to stay are exhausted"),
        required=False,
        help_text=_("MOU §29: return only once all possibilities to be allowed to stay are exhausted."),
    )
    # MOU §12
    no_conflict_with_humanitarian_concerns = forms.BooleanField(
        label=_("The return involves no measure conflicting with either organisation's humanitarian concerns"),
        required=False,
        help_text=_("MOU §12, condition 1."),
    )
    best_interests_considered = forms.BooleanField(
        label=_("The best interests of the individuals are taken into account"),
        required=False,
        help_text=_("MOU §12, condition 2."),
    )
    bilateral_matter_recognised = forms.BooleanField(
        label=_("The return is recognised as primarily a bilateral matter between the countries concerned"),
        required=False,
        help_text=_("MOU §12, condition 3."),
    )

    SECTION_29 = ("final_decision_date", "possibilities_to_stay_exhausted")
    SECTION_12 = ("no_conflict_with_humanitarian_concerns", "best_interests_considered", "bilateral_matter_recognised")

    def __init__(self, *args, kind: str | None = None, operations=None, agreements=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["operation"].queryset = (
            operations if operations is not None else RepatriationOperation.objects.none()
        )
        self.fields["agreement"].queryset = agreements if agreements is not None else ReturnAgreement.objects.none()
        self.fields["final_decision_date"].widget.attrs["max"] = timezone.localdate().isoformat()
        if kind:
            self._keep_fields_of(kind)

    def _keep_fields_of(self, kind: str) -> None:
        """Offer only the fields the kind uses (the services refuse the others anyway)."""
        drop = []
        if kind != ReturnKind.VOLUNTARY_REPATRIATION:
            drop.append("operation")
        if kind != ReturnKind.AGREEMENT_RETURN:
            drop.append("agreement")
        if kind != ReturnKind.AVR_REJECTED_ASYLUM_SEEKER:
            drop.extend(self.SECTION_29)
        if kind not in NOT_IN_NEED_OF_PROTECTION_KINDS:
            drop.extend(self.SECTION_12)
        for name in drop:
            self.fields.pop(name, None)

    def fieldsets(self):
        groups = (
            (_("Where to"), ("country_of_departure", "country_of_return", "place_of_return")),
            (_("Operation or agreement"), ("operation", "agreement")),
            (_("Travel"), ("travel_details", "embarkation_point", "fit_to_travel")),
            (_("Rejected asylum-seeker (MOU §29)"), self.SECTION_29),
            (
                _("Conditions for the return of people not in need of international protection (MOU §12)"),
                self.SECTION_12,
            ),
        )
        return [
            (title, [self[name] for name in names if name in self.fields])
            for title, names in groups
            if any(name in self.fields for name in names)
        ]


class CaseOpenForm(CaseDetailsForm):
    kind = forms.ChoiceField(
        label=_("Kind of return"),
        choices=[("", _("Choose a kind")), *ReturnKind.choices],
        help_text=_(
            "Voluntary repatriation is led by UNHCR (MOU §30); assisted voluntary returns by IOM (Letter, MOU §9)."
        ),
    )
    lead_office = OfficeChoiceField(
        label=_("Lead office"), queryset=Office.objects.none(), empty_label=_("Choose an office")
    )
    principal = forms.IntegerField(
        label=_("Principal applicant (record number)"),
        min_value=1,
        max_value=MAX_RECORD_NUMBER,
        help_text=_("Search for the person below, or enter the record number shown on their page."),
    )
    with_household = forms.BooleanField(
        label=_("Add the members of the principal's household"),
        required=False,
        help_text=_("Those registered at your offices. You can add and remove members later."),
    )
    other_members = forms.CharField(
        label=_("Other members (record numbers)"),
        max_length=300,
        required=False,
        help_text=_("Optional: record numbers separated by spaces or commas."),
    )

    def __init__(self, *args, offices=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead_office"].queryset = offices if offices is not None else Office.objects.none()
        order = ["kind", "lead_office", "principal", "with_household", "other_members"]
        self.order_fields(order)

    def clean_other_members(self) -> list[int]:
        raw = self.cleaned_data.get("other_members", "")
        numbers = []
        for part in raw.replace(",", " ").split():
            if not part.isdigit() or not 1 <= int(part) <= MAX_RECORD_NUMBER:
                raise forms.ValidationError(
                    _("“%(value)s” is not a record number."), code="invalid", params={"value": part[:20]}
                )
            numbers.append(int(part))
        if len(numbers) > MAX_EXTRA_MEMBERS:
            raise forms.ValidationError(
                _("Add at most %(n)s members at once."), code="too_many", params={"n": MAX_EXTRA_MEMBERS}
            )
        return list(dict.fromkeys(numbers))

    def fieldsets(self):
        people = (_("Kind, office and people"), [self[name] for name in self.fields if name in self.OPENING])
        return [people, *super().fieldsets()]

    OPENING = ("kind", "lead_office", "principal", "with_household", "other_members")


class CaseUpdateForm(CaseDetailsForm):
    # The version the editor loaded: a save over someone else's change is refused (return_case_update).
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=MAX_RECORD_NUMBER)


class CaseMemberForm(forms.Form):
    beneficiary = forms.IntegerField(label=_("Person (record number)"), min_value=1, max_value=MAX_RECORD_NUMBER)


class PersonSearchForm(forms.Form):
    q = forms.CharField(label=_("Find a person"), max_length=100, required=False)


class MoveForm(forms.Form):
    """One move of the state machine (returns.flow.MOVES): asks for what that move needs, and carries the version
    of the case the user saw, so a move over someone else's is refused."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=MAX_RECORD_NUMBER)
    expected_departure_date = _date(_("Expected departure date"), required=True)
    emergency_justification = _text(
        _("Emergency justification"),
        max_length=2000,
        help_text=_(
            "Letter: UNHCR is told of this departure with a pre-departure list of names and dates before "
            "embarkation, so it can reassure itself that the return is voluntary. This departure has not yet "
            "appeared on a list delivered to UNHCR: record embarkation now only in an emergency, and say why. "
            "The justification is flagged to the HQ focal points."
        ),
    )
    closing_reason = forms.ChoiceField(
        label=_("Closing reason"), choices=[("", _("Choose a reason")), *ClosingReason.choices]
    )
    reason = _text(_("Reason"), max_length=2000, help_text=_("Why this move is made; kept in the case's timeline."))

    def __init__(self, *args, move=None, needs_emergency: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.move = move
        # What the move takes besides the reason: returns.flow.Move.inputs (the service checks them again).
        wanted = set(move.inputs) if move is not None else set()
        if not needs_emergency:
            wanted.discard("emergency_justification")
        for name in ("expected_departure_date", "emergency_justification", "closing_reason"):
            if name not in wanted:
                del self.fields[name]
        if "expected_departure_date" in self.fields:
            self.fields["expected_departure_date"].widget.attrs["min"] = timezone.localdate().isoformat()
        if move is not None and move.needs_reason:
            self.fields["reason"].required = True
        if move is not None and move.name == "withdraw":
            self.fields["reason"].label = _("What the person said")
            self.fields["reason"].help_text = _(
                "Their decision about the return, in their words. Nothing on the case is deleted."
            )

    def inputs(self) -> dict:
        """The move's inputs for returns.services.return_case_move."""
        return {
            name: self.cleaned_data[name]
            for name in ("expected_departure_date", "emergency_justification", "closing_reason")
            if name in self.cleaned_data and self.cleaned_data[name] not in (None, "")
        }


class MeasureDoneForm(forms.Form):
    done_on = _date(_("Done on"), required=True)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["done_on"].widget.attrs["max"] = timezone.localdate().isoformat()


class VisitForm(forms.Form):
    visited_on = _date(_("Visited on"), required=True)
    outcome = _text(_("Outcome"), max_length=2000, required=True, help_text=_("No medical details."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["visited_on"].widget.attrs["max"] = timezone.localdate().isoformat()


# --- Repatriation operations (MOU §31) and return agreements (Letter) -------------------------------------


class OperationForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=OperationKind.choices)
    status = forms.ChoiceField(label=_("Status"), choices=OperationStatus.choices, initial=OperationStatus.PLANNING)
    country_of_origin = forms.ChoiceField(label=_("Country of return"), choices=_country_choices)
    host_countries = forms.MultipleChoiceField(
        label=_("Host countries"),
        choices=countries,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("The countries people return from."),
    )
    areas_of_return = _text(_("Areas of return"), max_length=2000)
    expected_number = forms.IntegerField(
        label=_("Expected number of people"), min_value=0, max_value=2_000_000_000, required=False
    )
    planning_started_on = _date(_("Planning started on"))
    expected_start = _date(_("Expected start"))
    expected_end = _date(_("Expected end"))
    notes = _text(_("Notes"), max_length=4000)


class OperationCreateForm(OperationForm):
    office = OfficeChoiceField(
        label=_("UNHCR office"),
        queryset=Office.objects.none(),
        empty_label=_("Choose an office"),
        help_text=_("MOU §31: UNHCR informs IOM of expected repatriation operations at an early stage of planning."),
    )

    def __init__(self, *args, offices=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].queryset = offices if offices is not None else Office.objects.none()
        self.order_fields(["office"])


class OperationUpdateForm(OperationForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=MAX_RECORD_NUMBER)


class OrganisationMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Organisation) -> str:
        return f"{obj.code} — {obj.name}"


class AgreementForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=AgreementKind.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    country_of_origin = forms.ChoiceField(label=_("Country of origin"), choices=_country_choices)
    host_country = forms.ChoiceField(label=_("Host country"), choices=_country_choices)
    parties = OrganisationMultipleChoiceField(
        label=_("Parties"),
        queryset=Organisation.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Letter: the country of origin, the host country, UNHCR and IOM (three for a tripartite)."),
    )
    valid_from = _date(_("Valid from"), required=True)
    valid_until = _date(_("Valid until"))
    review_date = _date(_("Review date"), help_text=_("Letter: the parties intend to review this form of cooperation."))
    notes = _text(_("Notes"), max_length=4000)

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parties"].queryset = organisations if organisations is not None else Organisation.objects.none()


class AgreementCreateForm(AgreementForm):
    office = OfficeChoiceField(
        label=_("Recording office"), queryset=Office.objects.none(), empty_label=_("Choose an office")
    )

    def __init__(self, *args, offices=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].queryset = offices if offices is not None else Office.objects.none()
        self.order_fields(["office"])


class AgreementUpdateForm(AgreementForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=MAX_RECORD_NUMBER)
