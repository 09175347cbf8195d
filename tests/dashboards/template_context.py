"""What the dashboard templates need beyond tests/jointops/test_templates.py's minimal context: a real office
dashboard of IOM-AF-KBL as an HQ focal point sees it (every section, figure and table, charts included). Every key
starts with "dashboard" so that other apps' templates are not disturbed."""

from __future__ import annotations

from django.http import QueryDict

from dashboards import selectors
from dashboards.params import parse_params
from dashboards.views import DashboardView


def template_context(world) -> dict:
    params = parse_params(QueryDict(""), office=world.iom_af)
    dashboard = selectors.dashboard_for(principal=world.iom_hq_focal, params=params)
    sections = DashboardView._sections(dashboard, world.iom_af, "from=2025-01-01")
    return {
        "dashboard": dashboard,
        "dashboard_sections": sections,
        "dashboard_period": (params.date_from, params.date_until),
        "dashboard_office": world.iom_af,
        "dashboard_offices": list(selectors.dashboard_offices_for(principal=world.iom_hq_focal)),
        "dashboard_figure": dashboard.sections[1].figures[0],
        "dashboard_table": sections[0]["tables"][0],
    }
