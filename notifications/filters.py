"""Filters of the notifications app: the one FilterSet per list, shared by the browser pages and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from notifications.choices import Channel, DeliveryStatus
from notifications.models import Delivery, PreDepartureEntry, PreDepartureList

# `true` or `false`, and nothing else: django-filter's BooleanFilter quietly ignores any other value (every row).
YES_NO = (("true", _("Yes")), ("false", _("No")))


class PreDepartureListFilterSet(django_filters.FilterSet):
    office = django_filters.CharFilter(
        method="filter_office", label=_("Office code, sending or receiving"), max_length=32
    )
    acknowledged = django_filters.ChoiceFilter(
        choices=YES_NO, method="filter_acknowledged", label=_("Acknowledged by UNHCR")
    )
    # The dashboards' country filter (issue 7): lists sent or received by an office of the country.
    office_country = django_filters.ChoiceFilter(
        choices=countries, method="filter_office_country", label=_("Country of the office, sending or receiving")
    )
    # Letter: an entry sent fewer days ahead than the office pair's lead time is late (PreDepartureEntry.is_late).
    late = django_filters.ChoiceFilter(choices=YES_NO, method="filter_late", label=_("With a late departure"))
    built_since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte", label=_("Built since"))
    built_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt", label=_("Built before"))

    class Meta:
        model = PreDepartureList
        fields = ["office", "office_country", "acknowledged", "late", "built_since", "built_before"]

    def filter_office(self, queryset, name, value):
        code = value.strip().upper()
        return queryset.filter(Q(iom_office__code=code) | Q(unhcr_office__code=code))

    def filter_office_country(self, queryset, name, value: str):
        return queryset.filter(Q(iom_office__country=value) | Q(unhcr_office__country=value))

    def filter_acknowledged(self, queryset, name, value):
        return queryset.filter(acknowledged_at__isnull=value != "true")

    def filter_late(self, queryset, name, value):
        late = Exists(PreDepartureEntry.objects.filter(list=OuterRef("pk"), is_late=True))
        return queryset.filter(late) if value == "true" else queryset.exclude(late)


class DeliveryFilterSet(django_filters.FilterSet):
    """The administrators' page of deliveries: by state and channel."""

    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices, label=_("Status"))
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("Channel"))

    class Meta:
        model = Delivery
        fields = ["status", "channel"]
