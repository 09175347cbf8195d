"""The one filter of Letters of Understanding for the list page, the API and the selectors."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from letters_of_understanding import selectors
from letters_of_understanding.choices import LouStatus
from letters_of_understanding.models import LetterOfUnderstanding

ATTENTION_CHOICES = (
    ("ending_without_plan", _("Ending within 90 days without an agreed phase-out plan (MOU §39)")),
    ("resources_flagged", _("Resources flagged insufficient without an agreed plan (MOU §39)")),
    ("review_overdue", _("Review overdue (MOU §47)")),
    ("notice_served", _("Termination notice served (MOU §45)")),
    ("amendment_awaiting", _("Amendment awaiting a decision (MOU §46)")),
    ("handover_pending", _("Assets awaiting a handover decision (MOU §40)")),
)


class LetterOfUnderstandingFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Reference or title"), max_length=200)
    status = django_filters.ChoiceFilter(choices=LouStatus.choices, label=_("Status"))
    country = django_filters.ChoiceFilter(choices=countries, method="filter_country", label=_("Country"))
    office = django_filters.CharFilter(method="filter_office", label=_("Party office code"), max_length=32)
    # The dashboards' country filter (issue 7): letters with a party office in the country.
    office_country = django_filters.ChoiceFilter(
        choices=countries, method="filter_office_country", label=_("Country of a party office")
    )
    attention = django_filters.ChoiceFilter(choices=ATTENTION_CHOICES, method="filter_attention", label=_("Needs"))

    class Meta:
        model = LetterOfUnderstanding
        fields = ["q", "status", "country", "office", "office_country", "attention"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(reference__icontains=value) | Q(title__icontains=value))

    def filter_country(self, queryset, name, value: str):
        return queryset.filter(selectors.country_filter(value))

    def filter_office(self, queryset, name, value):
        return queryset.filter(Q(unhcr_office__code=value.upper()) | Q(iom_office__code=value.upper()))

    def filter_office_country(self, queryset, name, value: str):
        return queryset.filter(Q(unhcr_office__country=value) | Q(iom_office__country=value))

    def filter_attention(self, queryset, name, value):
        return {
            "ending_without_plan": selectors.ending_without_agreed_plan,
            "resources_flagged": selectors.flagged_without_agreed_plan,
            "review_overdue": selectors.review_overdue,
            "notice_served": selectors.notice_served,
            "amendment_awaiting": selectors.amendments_awaiting,
            "handover_pending": selectors.handovers_pending,
        }[value](queryset)
