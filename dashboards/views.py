"""Browser pages of the dashboards: the joint (HQ) dashboard, an office's dashboard, and each table's export.

Thin views: the filters are validated by dashboards.params, the figures come from dashboards.selectors (the same
objects the API and the exports use), jointops.access decides who may look. HQ focal points review the joint
operation (MOU §35), office managers their offices; anyone else gets 403, and an office dashboard the user may not
open answers 404 like any hidden record. A bad filter is shown next to its field and nothing is computed (400).

The page holds no inline script (a Content-Security-Policy without 'unsafe-inline' is planned): each chart's data
is a `json_script` block (type application/json) that static/js/dashboard.js reads and draws with Chart.js; the
table beside each chart is its accessible alternative.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from dashboards import exporting, selectors
from dashboards.figures import Dashboard, Table
from dashboards.params import DashboardFilterForm, params_from_form, parse_params
from jointops import access
from jointops.exceptions import PermissionRefused, ValidationFailed
from jointops.models import Office
from jointops.views import _require

RESOURCE = "dashboard"
# A column that sums the others is shown in the table but left out of the chart (it would double a stacked bar).
TOTAL_COLUMN = "total"
# Tables with more columns than this take the page's width, their chart below them rather than beside.
SIDE_BY_SIDE_COLUMNS = 3


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _chart(table: Table) -> dict[str, Any]:
    """What static/js/dashboard.js draws: one dataset per column, one label per row (plain JSON)."""
    columns = [(index, column) for index, column in enumerate(table.columns) if column.key != TOTAL_COLUMN]
    return {
        "type": table.chart,
        "title": str(table.title),
        "labels": [str(row.label) for row in table.rows],
        "datasets": [
            {
                "key": column.key,
                "label": str(column.label),
                "unit": column.unit,
                "data": [row.values[index] for row in table.rows],
            }
            for index, column in columns
        ],
    }


def _table(table: Table, export_url) -> dict[str, Any]:
    """A table laid out for the page: numeric columns right-aligned, the chart's data, its export links."""
    numeric = [
        all(_is_number(row.values[index]) or row.values[index] is None for row in table.rows)
        for index in range(len(table.columns))
    ]
    return {
        "table": table,
        "columns": [{"column": column, "numeric": numeric[index]} for index, column in enumerate(table.columns)],
        "rows": [
            {
                "row": row,
                "cells": [{"value": value, "numeric": _is_number(value)} for value in row.values],
            }
            for row in table.rows
        ],
        "chart": _chart(table) if table.chart and table.rows else None,
        "wide": len(table.columns) > SIDE_BY_SIDE_COLUMNS,
        "csv_url": export_url(table.key, "csv"),
        "xlsx_url": export_url(table.key, "xlsx"),
    }


def _dress(form: DashboardFilterForm) -> DashboardFilterForm:
    """Presentation only: the period fields as the browser's date pickers (they send YYYY-MM-DD)."""
    for name in ("from", "until"):
        if name in form.fields:
            form.fields[name].widget.input_type = "date"
    return form


class DashboardView(LoginRequiredMixin, View):
    """GET /dashboard/ (the joint dashboard, with filters) and /dashboard/offices/<pk>/ (one office's)."""

    template_name = "dashboards/dashboard.html"

    def get(self, request, pk: int | None = None):
        user = request.user
        _require(user, access.VIEW, RESOURCE)  # 403 for roles without dashboards (MATRIX["dashboard"])
        office = selectors.office_dashboard_office(principal=user, pk=pk) if pk is not None else None
        form = _dress(DashboardFilterForm(request.GET, fixed_office=office))
        context: dict[str, Any] = {
            "filter_form": form,
            "is_filtered": any(request.GET.values()),
            "dashboard_office": office,
            "dashboard_offices": selectors.dashboard_offices_for(principal=user) if office is None else None,
            "dashboard": None,
        }
        if not form.is_valid():
            return render(request, self.template_name, context, status=400)
        params = params_from_form(form, office=office)
        try:
            dashboard = selectors.dashboard_for(principal=user, params=params)
        except PermissionRefused as exc:
            raise PermissionDenied from exc
        query = urlencode({key: value for key, value in params.as_query().items() if key in form.fields})
        context.update(
            dashboard=dashboard,
            dashboard_sections=self._sections(dashboard, office, query),
            dashboard_period=(params.date_from, params.date_until),
        )
        return render(request, self.template_name, context)

    @staticmethod
    def _sections(dashboard: Dashboard, office: Office | None, query: str) -> list[dict[str, Any]]:
        def export_url(key: str, fmt: str) -> str:
            if office is None:
                url = reverse("dashboards:export", args=[key, fmt])
            else:
                url = reverse("dashboards:office_export", args=[office.pk, key, fmt])
            return f"{url}?{query}" if query else url

        return [
            {"section": section, "tables": [_table(table, export_url) for table in section.tables]}
            for section in dashboard.sections
        ]


class DashboardExportView(LoginRequiredMixin, View):
    """GET /dashboard/export/<key>.<csv|xlsx> (and per office): one table, with the page's filters."""

    def get(self, request, key: str, fmt: str, pk: int | None = None):
        user = request.user
        _require(user, access.VIEW, RESOURCE)
        office = selectors.office_dashboard_office(principal=user, pk=pk) if pk is not None else None
        if fmt not in exporting.FORMATS:
            raise Http404
        try:
            params = parse_params(request.GET, office=office)
        except ValidationFailed as exc:
            form = DashboardFilterForm(fixed_office=office)
            label = form.fields[exc.field].label if exc.field in form.fields else _("Filters")
            return HttpResponse(f"{label}: {exc.message}", status=400, content_type="text/plain; charset=utf-8")
        try:
            dashboard = selectors.dashboard_for(principal=user, params=params)
        except PermissionRefused as exc:
            raise PermissionDenied from exc
        table = dashboard.table(key)
        if table is None:
            raise Http404
        return exporting.export_response(principal=user, table=table, fmt=fmt, path=request.get_full_path())
