"""Filters of the notifications app: the one FilterSet per list, shared by the browser pages and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from notifications.choices import Channel, DeliveryStatus
from notifications.models import Delivery, PreDepartureList

# `true` or `false`, and nothing else: django-filter's BooleanFilter quietly ignores any other value (every row).
YES_NO = (("true", _("Yes")), ("false", _("No")))


class PreDepartureListFilterSet(django_filters.FilterSet):
    office = django_filters.CharFilter(
        method="filter_office", label=_("Office code, sending or receiving"), max_length=32
    )
    acknowledged = django_filters.ChoiceFilter(
        choices=YES_NO, method="filter_acknowledged", label=_("Acknowledged by UNHCR")
    )
    built_since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte", label=_("Built since"))

    class Meta:
        model = PreDepartureList
        fields = ["office", "acknowledged", "built_since"]

    def filter_office(self, queryset, name, value):
        code = value.strip().upper()
        return queryset.filter(Q(iom_office__code=code) | Q(unhcr_office__code=code))

    def filter_acknowledged(self, queryset, name, value):
        return queryset.filter(acknowledged_at__isnull=value != "true")


class DeliveryFilterSet(django_filters.FilterSet):
    """The administrators' page of deliveries: by state and channel."""

    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices, label=_("Status"))
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("Channel"))

    class Meta:
        model = Delivery
        fields = ["status", "channel"]
