"""The one filter of the person's requests for the list page (and the API, if one is added)."""

import django_filters
from django.utils.translation import gettext_lazy as _

from privacy.choices import RequestKind, RequestStatus
from privacy.models import DataSubjectRequest


class DataSubjectRequestFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=RequestStatus.choices, label=_("Status"))
    kind = django_filters.ChoiceFilter(choices=RequestKind.choices, label=_("Request"))
    office = django_filters.CharFilter(field_name="office__code", label=_("Office code"), max_length=32)
    received_since = django_filters.DateFilter(field_name="received_on", lookup_expr="gte", label=_("Received since"))

    class Meta:
        model = DataSubjectRequest
        fields = ["status", "kind", "office", "received_since"]
