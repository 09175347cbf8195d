"""The one filter of return cases, repatriation operations and return agreements for the list pages, the API and
the selectors (ARCHITECTURE: one FilterSet serves the list page and the API)."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from jointops.filters import OrganisationCodeFilter
from returns.choices import AgreementKind, OperationKind, OperationStatus, ReturnKind, Stage
from returns.models import RepatriationOperation, ReturnAgreement, ReturnCase

# Record numbers are database ids: a larger number cannot exist.
MAX_RECORD_NUMBER = 2**63 - 1


class StrictBooleanField(forms.NullBooleanField):
    """Yes / no / empty, refusing anything else with an error naming the field (issue 8: bad input is a clear error,
    never silently ignored — django-filter's BooleanFilter reads "maybe" as "no filter")."""

    widget = forms.Select(choices=[("", _("Any")), ("true", _("Yes")), ("false", _("No"))])
    TRUE, FALSE = frozenset({"true", "1", "yes", "on"}), frozenset({"false", "0", "no", "off"})

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise forms.ValidationError(_("Choose true or false."), code="invalid")

    def validate(self, value):
        pass


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class DateRangeForm(forms.Form):
    """A FilterSet form whose `<name>_from` / `<name>_until` pairs must be in order."""

    date_ranges: tuple[tuple[str, str], ...] = ()

    def clean(self):
        data = super().clean()
        for start, end in self.date_ranges:
            if data.get(start) and data.get(end) and data[end] < data[start]:
                self.add_error(end, _("This date is before the start of the range."))
        return data


class ReturnCaseFilterForm(DateRangeForm):
    date_ranges = (("departure_from", "departure_until"),)


class ReturnCaseFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="reference", lookup_expr="icontains", label=_("Reference"), max_length=40)
    kind = django_filters.ChoiceFilter(choices=ReturnKind.choices, label=_("Kind of return"))
    stage = django_filters.ChoiceFilter(choices=Stage.choices, label=_("Stage"))
    office = django_filters.CharFilter(field_name="lead_office__code", label=_("Lead office code"), max_length=32)
    # The lead office's organisation and country: the dashboards' filters (issue 7), so that a figure's link lists
    # exactly the cases it counts.
    organisation = OrganisationCodeFilter(
        field_name="lead_office__organisation", label=_("Organisation of the lead office (code)")
    )
    office_country = django_filters.ChoiceFilter(
        field_name="lead_office__country", choices=countries, label=_("Country of the lead office")
    )
    country_of_return = django_filters.ChoiceFilter(choices=countries, label=_("Country of return"))
    departure_from = django_filters.DateFilter(
        field_name="expected_departure_date",
        lookup_expr="gte",
        label=_("Departure from"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    departure_until = django_filters.DateFilter(
        field_name="expected_departure_date",
        lookup_expr="lte",
        label=_("Departure until"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    operation = django_filters.NumberFilter(
        field_name="operation_id", label=_("Repatriation operation (id)"), min_value=1, max_value=MAX_RECORD_NUMBER
    )
    agreement = django_filters.NumberFilter(
        field_name="agreement_id", label=_("Return agreement (id)"), min_value=1, max_value=MAX_RECORD_NUMBER
    )
    # Letter: embarkation recorded before UNHCR had the pre-departure list, with an emergency justification.
    emergency = StrictBooleanFilter(method="emergency_embarkation", label=_("Emergency embarkation"))
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label=_("Updated since")
    )

    class Meta:
        model = ReturnCase
        form = ReturnCaseFilterForm
        fields = [
            "q",
            "kind",
            "stage",
            "office",
            "organisation",
            "office_country",
            "country_of_return",
            "departure_from",
            "departure_until",
            "operation",
            "agreement",
            "emergency",
            "updated_since",
        ]

    def emergency_embarkation(self, queryset, name, value):
        flagged = queryset.exclude(emergency_justification="")
        return flagged if value else queryset.filter(emergency_justification="")


class RepatriationOperationFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="title", lookup_expr="icontains", label=_("Title"), max_length=200)
    kind = django_filters.ChoiceFilter(choices=OperationKind.choices, label=_("Kind"))
    status = django_filters.ChoiceFilter(choices=OperationStatus.choices, label=_("Status"))
    country_of_origin = django_filters.ChoiceFilter(choices=countries, label=_("Country of return"))
    office = django_filters.CharFilter(field_name="office__code", label=_("Office code"), max_length=32)
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label=_("Updated since")
    )

    class Meta:
        model = RepatriationOperation
        fields = ["q", "kind", "status", "country_of_origin", "office", "updated_since"]


class ReturnAgreementFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="title", lookup_expr="icontains", label=_("Title"), max_length=200)
    kind = django_filters.ChoiceFilter(choices=AgreementKind.choices, label=_("Kind"))
    country_of_origin = django_filters.ChoiceFilter(choices=countries, label=_("Country of origin"))
    host_country = django_filters.ChoiceFilter(choices=countries, label=_("Host country"))
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label=_("Updated since")
    )

    class Meta:
        model = ReturnAgreement
        fields = ["q", "kind", "country_of_origin", "host_country", "updated_since"]
