"""The one filter of people for the list page, the API, exports and selectors."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from beneficiaries import matching
from beneficiaries.choices import CategoryCode
from beneficiaries.models import Beneficiary, Household
from jointops.filters import OrganisationCodeFilter


class BeneficiaryFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Name (any spelling) or reference"), max_length=100)
    category = django_filters.ChoiceFilter(
        field_name="category__code", choices=CategoryCode.choices, label=_("Category")
    )
    nationality = django_filters.ChoiceFilter(choices=countries, label=_("Nationality"))
    country_of_residence = django_filters.ChoiceFilter(choices=countries, label=_("Country of residence or asylum"))
    office = django_filters.CharFilter(field_name="office__code", label=_("Office code"), max_length=32)
    # The registering office's organisation and country: the dashboards' filters (issue 7), so that a figure's link
    # lists exactly the people it counts (a record shared by the other agency belongs to that agency's office).
    organisation = OrganisationCodeFilter(
        field_name="office__organisation", label=_("Organisation of the office (code)")
    )
    office_country = django_filters.ChoiceFilter(
        field_name="office__country", choices=countries, label=_("Country of the office")
    )
    of_concern_to_unhcr = django_filters.BooleanFilter(label=_("Person of concern to UNHCR"))
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label=_("Updated since")
    )
    include_merged = django_filters.BooleanFilter(method="merged", label=_("Include merged records"))

    class Meta:
        model = Beneficiary
        fields = [
            "q",
            "category",
            "nationality",
            "country_of_residence",
            "office",
            "organisation",
            "office_country",
            "of_concern_to_unhcr",
            "updated_since",
        ]

    def search(self, queryset, name, value):
        """Every word must match a name in any spelling (folded or by consonant skeleton) or a reference.

        Querysets scoped to a reader (BeneficiaryQuerySet.visible_to) carry `searchable_text`, which leaves out the
        references a shared record's reader may not see (Issue 8); it is searched instead of `search_text`."""
        field = (
            "searchable_text__contains" if "searchable_text" in queryset.query.annotations else "search_text__contains"
        )
        for word in value.split()[:6]:
            folded, skeleton = matching.fold(word), matching.skeleton(word)
            condition = Q(**{field: folded}) if folded else Q()
            if skeleton:
                condition |= Q(**{field: skeleton})
            if not folded and not skeleton:
                condition = Q(**{field: word.lower()})
            queryset = queryset.filter(condition)
        return queryset

    def merged(self, queryset, name, value):
        return queryset if value else queryset.filter(merged_into__isnull=True)

    def filter_queryset(self, queryset):
        if not self.form.cleaned_data.get("include_merged"):
            queryset = queryset.filter(merged_into__isnull=True)
        return super().filter_queryset(queryset)


class HouseholdFilterSet(django_filters.FilterSet):
    office = django_filters.CharFilter(field_name="office__code", label=_("Office code"), max_length=32)
    reference = django_filters.CharFilter(lookup_expr="icontains", label=_("Reference"), max_length=40)
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label=_("Updated since")
    )

    class Meta:
        model = Household
        fields = ["office", "reference", "updated_since"]
