"""API of the dashboards (issue 7): `GET /api/v1/dashboard/` and `GET /api/v1/dashboard/offices/<id>/`.

The same figures as the pages and the exports, for partner dashboards: dashboards.selectors.dashboard_for computes
them (aggregates in the database), dashboards.params validates the filters (a bad value answers 400 naming the field).
Who may read them is jointops.access's decision for the resource "dashboard" (action view): office managers for their
offices, HQ focal points for the offices of both organisations (JOINT_RESOURCES, MOU §35), partner systems holding
`dashboard:read` for their office and the offices beneath it; anyone else 403. An office's dashboard for an office
outside the caller's scope answers 404, as any hidden record. Figures only, never a name: nothing is written to the
access log.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboards import selectors
from dashboards.params import parse_params
from dashboards.serializers import DashboardSerializer
from jointops.api.base import ApiViewMixin
from jointops.api.permissions import ResourcePermission

RESOURCE = "dashboard"
TAGS = ["dashboard"]

PERIOD_PARAMETERS = [
    OpenApiParameter(
        "from",
        OpenApiTypes.DATE,
        description=_("First day of the period (ISO 8601). Default: the first day of the month eleven months ago."),
    ),
    OpenApiParameter(
        "until",
        OpenApiTypes.DATE,
        description=_("Last day of the period (ISO 8601). Default: today. At most five years after `from`."),
    ),
]
SCOPE_PARAMETERS = [
    OpenApiParameter("organisation", str, description=_("Only the offices of this organisation: UNHCR or IOM.")),
    OpenApiParameter("country", str, description=_("Only the offices in this country (ISO 3166 code, e.g. AF).")),
    OpenApiParameter("office", str, description=_("Only this office (its code, e.g. IOM-AF-KBL).")),
]
OFFICE_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description=_("Id of the office."))


class ReadOnlyResourceView(ApiViewMixin, APIView):
    """A read-only view checked by jointops.access for `access_resource` (action view), like ScopedViewSet's."""

    permission_classes = [ResourcePermission]
    access_resource = RESOURCE

    def initial(self, request, *args, **kwargs):
        # As in a viewset: a method the view does not offer has no action, so ResourcePermission lets it through to
        # the 405 that follows (rather than a 403 that would suggest another principal could write here).
        offered = request.method.lower() in self.http_method_names and hasattr(self, request.method.lower())
        self.action = "retrieve" if offered else None
        super().initial(request, *args, **kwargs)


class DashboardView(ReadOnlyResourceView):
    """The joint operation's figures across the offices the caller follows (access module, resource "dashboard")."""

    @extend_schema(
        operation_id="dashboard_retrieve",
        tags=TAGS,
        parameters=[*SCOPE_PARAMETERS, *PERIOD_PARAMETERS],
        responses=DashboardSerializer,
        description=(
            "Figures of the offices the caller follows — HQ focal points: every office of both organisations (MOU "
            "§35); office managers: their offices and those beneath; partner systems with `dashboard:read`: their "
            "office and those beneath — narrowed by the filters. Counts, shares and days, never a name. Links "
            "(`url`) are paths of the browser pages behind each figure. A bad filter answers 400 naming it."
        ),
    )
    def get(self, request):
        params = parse_params(request.query_params)
        dashboard = selectors.dashboard_for(principal=request.user, params=params)
        return Response(DashboardSerializer(dashboard).data)


class OfficeDashboardView(ReadOnlyResourceView):
    """One office's dashboard: the same figures for that office, plus its upcoming departures and overdue tasks."""

    @extend_schema(
        operation_id="dashboard_office_retrieve",
        tags=TAGS,
        parameters=[OFFICE_ID, *PERIOD_PARAMETERS],
        responses=DashboardSerializer,
        description=(
            "The dashboard of one office the caller follows (404 for any other): its figures, its departures in the "
            "next 30 days (case references and dates, never names) and what is overdue. Only the period filters "
            "apply."
        ),
    )
    def get(self, request, id):  # noqa: A002 - the path parameter, named as in every other endpoint's schema
        office = selectors.office_dashboard_office(principal=request.user, pk=id)
        params = parse_params(request.query_params, office=office)
        dashboard = selectors.dashboard_for(principal=request.user, params=params)
        return Response(DashboardSerializer(dashboard).data)
