"""FilterSets of the shared records: the one filter for the list pages, the API and the selectors."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from jointops.choices import OfficeLevel, Role
from jointops.models import AccessLog, ApiClient, Consultation, ConsultationSubject, Office, Organisation, User


class OrganisationCodeField(forms.CharField):
    """An organisation's code (any case), cleaned to the Organisation; an unknown code is refused, naming it. Reads
    the database only when a code is given (a select of every organisation would cost each list page a query)."""

    default_error_messages = {"unknown": _("No organisation has the code %(code)s.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 32)
        super().__init__(**kwargs)

    def clean(self, value):
        code = super().clean(value)
        if not code:
            return None
        organisation = Organisation.objects.filter(code__iexact=code).first()
        if organisation is None:
            raise forms.ValidationError(self.error_messages["unknown"], code="unknown", params={"code": code})
        return organisation


class OrganisationCodeFilter(django_filters.CharFilter):
    """Records whose `field_name` (a foreign key to Organisation) is the organisation with the code given."""

    field_class = OrganisationCodeField


class OfficeFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    organisation = django_filters.CharFilter(field_name="organisation__code", label=_("Organisation code"))
    level = django_filters.ChoiceFilter(choices=OfficeLevel.choices, label=_("Level"))
    country = django_filters.CharFilter(field_name="country", label=_("Country (ISO 3166 code)"))
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label=_("Updated since")
    )

    class Meta:
        model = Office
        fields = ["q", "organisation", "level", "country", "is_active", "updated_since"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))


class UserFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    # distinct: a user holding the role at several offices is listed once.
    office = django_filters.CharFilter(field_name="memberships__office__code", label=_("Office code"), distinct=True)
    role = django_filters.ChoiceFilter(
        field_name="memberships__role", choices=Role.choices, label=_("Role"), distinct=True
    )

    class Meta:
        model = User
        fields = ["q", "office", "role", "is_active"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(username__icontains=value)
            | Q(first_name__icontains=value)
            | Q(last_name__icontains=value)
            | Q(email__icontains=value)
        )


class ApiClientFilterSet(django_filters.FilterSet):
    office = django_filters.CharFilter(field_name="office__code", label=_("Office code"))
    revoked = django_filters.BooleanFilter(
        field_name="revoked_at", lookup_expr="isnull", exclude=True, label=_("Revoked")
    )

    class Meta:
        model = ApiClient
        fields = ["office", "revoked"]


class AccessLogFilterSet(django_filters.FilterSet):
    resource = django_filters.CharFilter(label=_("Record type"))
    action = django_filters.CharFilter(label=_("Action"))
    user = django_filters.CharFilter(field_name="user__username", label=_("User name"))
    api_client = django_filters.NumberFilter(field_name="api_client_id", label=_("API client id"))
    since = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte", label=_("From"))
    until = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt", label=_("Until"))

    class Meta:
        model = AccessLog
        fields = ["resource", "action", "user", "api_client", "since", "until"]


class ConsultationFilterSet(django_filters.FilterSet):
    """Consultations between the agencies (MOU §22, §25, §28, §29); `case` / `operation` find those linked to one."""

    subject_kind = django_filters.ChoiceFilter(choices=ConsultationSubject.choices, label=_("Subject"))
    office = django_filters.CharFilter(field_name="offices__code", label=_("Office code"), max_length=32, distinct=True)
    # The dashboards' country filter (issue 7): consultations with an office of the country taking part.
    office_country = django_filters.ChoiceFilter(
        field_name="offices__country", choices=countries, label=_("Country of an office taking part"), distinct=True
    )
    held_from = django_filters.DateFilter(field_name="held_on", lookup_expr="gte", label=_("Held from"))
    held_until = django_filters.DateFilter(field_name="held_on", lookup_expr="lte", label=_("Held until"))
    case = django_filters.NumberFilter(
        method="linked_case", label=_("Return case (id)"), min_value=1, max_value=2**63 - 1
    )
    operation = django_filters.NumberFilter(
        method="linked_operation", label=_("Repatriation operation (id)"), min_value=1, max_value=2**63 - 1
    )
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label=_("Updated since")
    )

    class Meta:
        model = Consultation
        fields = [
            "subject_kind",
            "office",
            "office_country",
            "held_from",
            "held_until",
            "case",
            "operation",
            "updated_since",
        ]

    def _linked(self, queryset, model: str, value):
        from django.contrib.contenttypes.models import ContentType

        linked_type = ContentType.objects.get_by_natural_key("returns", model)
        return queryset.filter(linked_type=linked_type, linked_id=int(value))

    def linked_case(self, queryset, name, value):
        return self._linked(queryset, "returncase", value)

    def linked_operation(self, queryset, name, value):
        return self._linked(queryset, "repatriationoperation", value)
