"""Output serializers of the dashboard API: the shape of dashboards.figures.Dashboard (`as_dict()`), documented.

Output only (the API's dashboards are read-only); the filters come from the query string, validated by
dashboards.params. The serializers read the dataclasses' attributes, so the API shows exactly the numbers of the page
and of the CSV/XLSX exports. Values are counts, shares and days — never a person's name (issue 7; MOU §35).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

URL_HELP = _(
    "Path of the filtered list behind it in the browser application (relative to this server, e.g. "
    "`/people/?category=refugee`), or empty when there is none. The pages need a signed-in member of staff."
)
UNIT_HELP = _('"" for a count, "percent" (0–100, one decimal) or "days".')
SOURCE_HELP = _("The rule the figure follows, e.g. “MOU §39”, or empty.")


@extend_schema_field({"type": "number", "nullable": True})
class NumberOrNullField(serializers.Field):
    """A count (integer), a share or a number of days (decimal), or null when there is nothing to measure."""

    def to_representation(self, value):
        return value


@extend_schema_field({"oneOf": [{"type": "number"}, {"type": "string"}], "nullable": True})
class CellField(serializers.Field):
    """A cell of a table: a number, or (in an office's upcoming departures) a short text such as a date; or null."""

    def to_representation(self, value):
        return value


class DashboardFiltersSerializer(serializers.Serializer):
    """The filters the figures were computed with, as query-string values (absent when not set)."""

    organisation = serializers.CharField(required=False, help_text=_("Organisation code: UNHCR or IOM."))
    country = serializers.CharField(required=False, help_text=_("ISO 3166 code of the offices' country."))
    office = serializers.CharField(required=False, help_text=_("Code of the office, e.g. IOM-AF-KBL."))

    def get_fields(self):
        fields = super().get_fields()
        # "from" is a Python keyword: declared here rather than as a class attribute.
        fields["from"] = serializers.DateField(help_text=_("First day of the period."))
        fields["until"] = serializers.DateField(help_text=_("Last day of the period."))
        return fields


class DashboardFigureSerializer(serializers.Serializer):
    key = serializers.CharField(help_text=_("Stable key, e.g. people_total."))
    label = serializers.CharField()
    value = NumberOrNullField(help_text=_("null when there is nothing to measure (e.g. a share of no lists)."))
    unit = serializers.CharField(allow_blank=True, help_text=UNIT_HELP)
    url = serializers.CharField(allow_blank=True, help_text=URL_HELP)
    source = serializers.CharField(allow_blank=True, help_text=SOURCE_HELP)


class DashboardColumnSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    unit = serializers.CharField(allow_blank=True, help_text=UNIT_HELP)


class DashboardRowSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    values = serializers.ListField(child=CellField(), help_text=_("One value per column, in the columns' order."))
    url = serializers.CharField(allow_blank=True, help_text=URL_HELP)


class DashboardTableSerializer(serializers.Serializer):
    key = serializers.CharField(help_text=_("Stable key, e.g. people_by_category."))
    title = serializers.CharField()
    chart = serializers.CharField(
        allow_blank=True, help_text=_('"bar", "stacked", "line", "doughnut", or "" when the table has no chart.')
    )
    source = serializers.CharField(allow_blank=True, help_text=SOURCE_HELP)
    columns = DashboardColumnSerializer(many=True)
    rows = DashboardRowSerializer(many=True)


class DashboardSectionSerializer(serializers.Serializer):
    key = serializers.CharField(
        help_text=_(
            "people, returns, notification_compliance, letters_of_understanding, consultations; an office's "
            "dashboard starts with office (its upcoming departures and overdue tasks)."
        )
    )
    title = serializers.CharField()
    figures = DashboardFigureSerializer(many=True)
    tables = DashboardTableSerializer(many=True)


class DashboardSerializer(serializers.Serializer):
    """The figures of the offices the caller follows, narrowed by the filters: counts, shares and days only."""

    title = serializers.CharField()
    generated_at = serializers.DateTimeField()
    filters = DashboardFiltersSerializer()
    sections = DashboardSectionSerializer(many=True)
