"""FilterSets of the shared records: the one filter for the list pages, the API and the selectors."""

import json

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.db import connections
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from jointops.choices import OfficeLevel, Role
from jointops.models import (
    AccessLog,
    ApiClient,
    Consultation,
    ConsultationSubject,
    Membership,
    Office,
    Organisation,
    User,
)


class _CodeField(forms.CharField):
    """A record's code (any case), cleaned to the record of `model`; an unknown code is refused, naming it. Reads
    the database only when a code is given (a select of every record would cost each list page a query)."""

    model = None

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 32)
        super().__init__(**kwargs)

    def clean(self, value):
        code = super().clean(value)
        if not code:
            return None
        found = self.model.objects.filter(code__iexact=code).first()
        if found is None:
            raise forms.ValidationError(self.error_messages["unknown"], code="unknown", params={"code": code})
        return found


class OrganisationCodeField(_CodeField):
    """An organisation's code, cleaned to the Organisation."""

    model = Organisation
    default_error_messages = {"unknown": _("No organisation has the code %(code)s.")}


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


# Issue 8 (accountability): what an access-log row records. "view" one record, "list" a page of them, "export" a file,
# "download" a document (jointops.audit.log_access).
ACCESS_ACTIONS = [
    ("view", _("Read a record")),
    ("list", _("Listed records")),
    ("export", _("Exported")),
    ("download", _("Downloaded")),
]
RECORD_TYPE_VALIDATOR = RegexValidator(
    r"^[a-z][a-z0-9_]{0,63}\Z", _("A record type is lower-case letters, digits and underscores, e.g. beneficiary.")
)
RECORD_ID_VALIDATOR = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,63}\Z", _("A record id is letters, digits, '-', '_', '.' or '/', e.g. 123.")
)


class OfficeCodeField(_CodeField):
    """An office's code, cleaned to the Office."""

    model = Office
    default_error_messages = {"unknown": _("No office has the code %(code)s.")}


class OfficeCodeFilter(django_filters.CharFilter):
    field_class = OfficeCodeField


class AccessLogFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since >= until:
            self.add_error("until", _("The end of the period must come after its start."))
        return cleaned


class AccessLogFilterSet(django_filters.FilterSet):
    """Issue 8: who read or exported what — by account, action, record type, record, office of the actor, period."""

    user = django_filters.CharFilter(
        field_name="user__username", lookup_expr="iexact", max_length=150, label=_("User name")
    )
    api_client = django_filters.NumberFilter(
        field_name="api_client_id", min_value=1, max_value=2**63 - 1, label=_("Partner system (id)")
    )
    action = django_filters.ChoiceFilter(choices=ACCESS_ACTIONS, label=_("Action"))
    resource = django_filters.CharFilter(max_length=64, validators=[RECORD_TYPE_VALIDATOR], label=_("Record type"))
    record = django_filters.CharFilter(
        method="with_record", max_length=64, validators=[RECORD_ID_VALIDATOR], label=_("Record id")
    )
    office = OfficeCodeFilter(method="by_office", label=_("Office of the actor"))
    since = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte", label=_("From"))
    until = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt", label=_("Before"))

    class Meta:
        model = AccessLog
        form = AccessLogFilterForm
        fields = ["user", "api_client", "action", "resource", "record", "office", "since", "until"]

    def with_record(self, queryset, name, value):
        """Rows whose ids include `value` ("who read person 123"): JSON containment on PostgreSQL (`@>`); elsewhere
        the JSON text holds the quoted id (the validator keeps quotes and backslashes out of it)."""
        if connections[queryset.db].vendor == "postgresql":
            return queryset.filter(object_ids__contains=[value])
        return queryset.annotate(_object_ids_text=Cast("object_ids", TextField())).filter(
            _object_ids_text__contains=json.dumps(value)
        )

    def by_office(self, queryset, name, office):
        """Rows of the staff holding a role at the office, and of the partner systems bound to it."""
        members = Membership.objects.filter(office=office).values("user_id")
        return queryset.filter(Q(user_id__in=members) | Q(api_client__office=office))


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
