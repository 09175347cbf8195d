"""The physical-limit baselines of the API measurements, and a raw-SQL list view for the load test.

`LIST_SQL` and `DETAIL_SQL` build in PostgreSQL, in one statement, the JSON the API answers for a page of return
cases with their members (`/api/v1/return-cases/?page_size=N`) and for one case (`/api/v1/return-cases/<id>/`): the
same cases (scoped to the same offices, newest first), the same fields, the members in the same order. They are run
in process through a cursor (bench.measure) and, behind the same middleware, authentication, permission and
throttling as the API, by `RawReturnCaseListView` (bench.urls, served by gunicorn in bench.load).
"""

from __future__ import annotations

from django.db import connection
from django.http import HttpResponse
from rest_framework.views import APIView

from jointops import access
from jointops.api.base import ApiViewMixin
from jointops.api.pagination import DefaultCursorPagination
from jointops.api.permissions import ResourcePermission

# returns.api.serializers.ReturnCaseMemberSerializer, field for field.
MEMBER_JSON = """json_build_object(
    'person', b.id, 'is_principal', m.is_principal, 'given_name', b.given_name, 'family_name', b.family_name,
    'sex', b.sex, 'date_of_birth', b.date_of_birth, 'nationality', b.nationality,
    'of_concern_to_unhcr', b.of_concern_to_unhcr, 'unhcr_registration_number', b.unhcr_registration_number,
    'iom_case_number', b.iom_case_number, 'preferred_language', b.preferred_language,
    'specific_needs', b.specific_needs, 'phone', b.phone)"""

MEMBERS = f"""(SELECT coalesce(json_agg({MEMBER_JSON} ORDER BY m.is_principal DESC, m.id), '[]'::json)
    FROM returns_returncasemember m JOIN beneficiaries_beneficiary b ON b.id = m.beneficiary_id
    WHERE m.case_id = c.id)"""

# returns.api.serializers.CASE_FIELDS, in order.
CASE_COLUMNS = f"""c.id, c.reference, c.kind, c.stage, o.code AS lead_office, c.country_of_departure,
    c.country_of_return, c.place_of_return, c.operation_id AS operation, c.agreement_id AS agreement,
    c.expected_departure_date, c.travel_details, c.embarkation_point, c.embarked_at, c.arrived_at, c.fit_to_travel,
    c.final_decision_date, c.possibilities_to_stay_exhausted, c.no_conflict_with_humanitarian_concerns,
    c.best_interests_considered, c.bilateral_matter_recognised, c.emergency_justification, c.closing_reason,
    {MEMBERS} AS members, c.version, c.created_at, c.updated_at"""

LIST_SQL = f"""SELECT json_build_object('next', NULL, 'previous', NULL,
        'results', coalesce(json_agg(page ORDER BY page.id DESC), '[]'::json))::text
    FROM (SELECT {CASE_COLUMNS}
          FROM returns_returncase c JOIN jointops_office o ON o.id = c.lead_office_id
          WHERE c.lead_office_id = ANY(%(offices)s)
          ORDER BY c.id DESC LIMIT %(size)s) AS page"""

# The detail adds the timeline (returns.api.serializers.CaseTransitionSerializer) and the visits; the moves the
# caller may make are computed in Python from the flow table (no data), so they have no SQL counterpart.
DETAIL_SQL = f"""SELECT row_to_json(one)::text FROM (
        SELECT {CASE_COLUMNS},
            (SELECT coalesce(json_agg(json_build_object(
                        'move', t.transition, 'from', t.from_stage, 'to', t.to_stage, 'reason', t.reason,
                        'details', t.details, 'at', t.at, 'by', coalesce(u.username, a.name))
                    ORDER BY t.at, t.id), '[]'::json)
             FROM returns_casetransition t
             LEFT JOIN jointops_user u ON u.id = t.user_id
             LEFT JOIN jointops_apiclient a ON a.id = t.api_client_id
             WHERE t.case_id = c.id) AS timeline,
            (SELECT coalesce(json_agg(json_build_object('id', v.id, 'visited_on', v.visited_on,
                        'outcome', v.outcome) ORDER BY v.visited_on DESC, v.id DESC), '[]'::json)
             FROM returns_reintegrationvisit v WHERE v.case_id = c.id) AS visits
        FROM returns_returncase c JOIN jointops_office o ON o.id = c.lead_office_id
        WHERE c.id = %(id)s AND c.lead_office_id = ANY(%(offices)s)) AS one"""


def visible_offices(principal) -> list[int]:
    """The offices whose cases the principal may read (jointops.access, as the API scopes its queryset)."""
    from jointops.models import Office

    ids = access.office_ids(principal, "return_case", access.VIEW)
    if ids is access.EVERYTHING:
        return list(Office.objects.values_list("pk", flat=True))
    return sorted(ids)


def list_page_json(cursor, *, offices: list[int], size: int) -> str:
    cursor.execute(LIST_SQL, {"offices": offices, "size": size})
    return cursor.fetchone()[0]


def detail_json(cursor, *, case_id: int, offices: list[int]) -> str | None:
    cursor.execute(DETAIL_SQL, {"id": case_id, "offices": offices})
    row = cursor.fetchone()
    return row[0] if row else None


class RawReturnCaseListView(ApiViewMixin, APIView):
    """A page of return cases as one SQL statement builds it: the API's authentication, permission check, throttling
    and input checks, then the scoping rule and the statement — no ORM, no serializer, no renderer."""

    permission_classes = [ResourcePermission]
    access_resource = "return_case"

    def get(self, request):
        size = DefaultCursorPagination().get_page_size(request)
        with connection.cursor() as cursor:
            body = list_page_json(cursor, offices=visible_offices(request.user), size=size)
        return HttpResponse(body, content_type="application/json")
