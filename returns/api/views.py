"""API of return cases, repatriation operations (MOU §31) and return agreements (Letter of 16 January 2003).

Reads start from returns.selectors (scoped by jointops.access: hidden records answer 404), lists are filtered by
returns.filters, writes go through returns.services — the same code the browser calls; a case moves only through
services.return_case_move (the state machine of returns.flow). Nothing is deleted (405): a case is withdrawn or
closed. The members of a case are people: each read of a case (or a page of cases) is written to the access log
with their ids.

Concurrent edits (RELIABILITY.md): a case, operation or agreement answers an `ETag` carrying its version; PUT and
PATCH need `If-Match` (missing: 428; stale: 412, nothing overwritten). A move takes `If-Match` too, optionally:
when sent, a stale one answers 412.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from jointops import access
from jointops.api.base import ScopedViewSet
from jointops.api.concurrency import ETAG, IF_MATCH, PRECONDITION_RESPONSES, etag_for, if_match_version, lookup_action
from jointops.api.serializers import ApiErrorSerializer
from jointops.audit import log_access
from returns import flow, selectors, services
from returns.api import serializers as s
from returns.filters import RepatriationOperationFilterSet, ReturnAgreementFilterSet, ReturnCaseFilterSet
from returns.models import ReturnCase

OPTIONAL_IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description='Optional: the ETag of the case as you read it, e.g. "3". Someone moved or changed it since: 412.',
)
PERSON_ID = OpenApiParameter("person_id", int, OpenApiParameter.PATH, description="Id of the person on the case.")
MOVE_RESPONSES = {
    200: s.ReturnCaseDetailSerializer,
    409: OpenApiResponse(
        ApiErrorSerializer,
        description="The move is not allowed now: the case's stage, or a rule (MOU §12, §29, the Letter) with "
        "its reason.",
    ),
    412: OpenApiResponse(ApiErrorSerializer, description="Stale If-Match: someone changed the case since you read it."),
}


def optional_if_match_version(request) -> int | None:
    """The version named by If-Match when the caller sent one (`*` or nothing: any version)."""
    raw = request.headers.get("If-Match", "").strip()
    if raw in ("", "*"):
        return None
    return if_match_version(request)


# The columns of the members' people that reads load: those the member rows show.
MEMBER_PERSON_FIELDS = s.ReturnCaseMemberSerializer.person_fields


def _member_ids(cases) -> list[int]:
    return [row["person"] for case in cases for row in case.member_rows]


# --- Return cases -------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        description="Return cases of the offices the caller works for (HQ focal points: their organisation), newest "
        "first, with their members. Each page is written to the access log (the members' ids)."
    ),
)
class ReturnCaseViewSet(mixins.ListModelMixin, ScopedViewSet):
    """Cases of people going home (MOU §12-§15, §29-§31; Letter of 16 January 2003). Never deleted: withdrawn or
    closed through a move."""

    serializer_class = s.ReturnCaseSerializer
    filterset_class = ReturnCaseFilterSet
    access_resource = "return_case"

    def get_queryset(self):
        # Reads show the cases with their members as plain rows (with_member_rows, once the page is cut).
        return selectors.return_case_rows_qs_for(principal=self.request.user)

    # Helpers

    def _get(self, pk, *, action: str = access.VIEW) -> ReturnCase:
        """The case to show, with its `member_rows`."""
        return selectors.return_case_rows_get_for_user(
            principal=self.request.user, pk=pk, action=action, person_fields=MEMBER_PERSON_FIELDS
        )

    def _get_for_write(self, pk) -> ReturnCase:
        """The case to change (members as model instances, for the services): 404 if hidden; 403 if visible but not
        the caller's to change — checked before If-Match and the body, so a refusal says the real reason."""
        principal = self.request.user
        case = selectors.return_case_get_for_user(
            principal=principal, pk=pk, action=lookup_action(principal, "return_case")
        )
        access.require(principal, access.CHANGE, "return_case", office=case.lead_office_id)
        return case

    def _reload(self, case: ReturnCase) -> ReturnCase:
        return self._get(case.pk, action=lookup_action(self.request.user, "return_case"))

    def _detail_response(self, case: ReturnCase, *, status_code: int = status.HTTP_200_OK) -> Response:
        principal = self.request.user
        related = {
            "moves": services.moves_for(actor=principal, case=case),
            "timeline": selectors.return_case_timeline_rows(case=case),
            "unhcr_must_be_informed": flow.unhcr_must_be_informed(case),
            "measures": selectors.case_measure_states(case=case) if case.lead_office_requires_measures else [],
            # Visits are recorded after arrival only (services.reintegration_visit_record), and arrival is never
            # undone: a case not arrived has none to read.
            "visits": list(case.visits.all()) if case.arrived_at else [],
        }
        body = self.output(case, serializer_class=s.ReturnCaseDetailSerializer, related=related)
        return Response(body, status=status_code, headers={"ETag": etag_for(case)})

    # Reads

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        selectors.with_member_rows(page or [], person_fields=MEMBER_PERSON_FIELDS)
        if page and (people := _member_ids(page)):
            log_access(
                actor=request.user,
                action="list",
                resource="beneficiary",
                object_ids=people,
                purpose="return cases",
                path=request.path,
            )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(responses={200: s.ReturnCaseDetailSerializer}, parameters=[ETAG])
    def retrieve(self, request, pk=None):
        """One case with its members, the moves the caller may make now, its timeline, measures and visits. The
        read of its members is written to the access log."""
        case = self._get(pk)
        log_access(
            actor=request.user,
            action="view",
            resource="beneficiary",
            object_ids=_member_ids([case]),
            purpose=f"return case {case.reference}",
            path=request.path,
        )
        return self._detail_response(case)

    # Writes

    @extend_schema(
        request=s.ReturnCaseCreateSerializer, responses={201: s.ReturnCaseDetailSerializer}, parameters=[ETAG]
    )
    def create(self, request):
        """Open a case at an office the caller works for (the kind's lead agency: MOU §30, Letter)."""
        data = self.validated_input(s.ReturnCaseCreateSerializer)
        principal = data.pop("principal")
        members = list({person.pk: person for person in data.pop("members")}.values())
        case = services.return_case_open(
            actor=request.user,
            kind=data.pop("kind"),
            lead_office=data.pop("lead_office"),
            principal=principal,
            members=members,
            **data,
        )
        response = self._detail_response(self._reload(case), status_code=status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(f"{request.path}{case.pk}/")
        return response

    def _update(self, request, pk, *, partial: bool) -> Response:
        case = self._get_for_write(pk)
        version = if_match_version(request)
        changes = self.validated_input(s.ReturnCaseUpdateSerializer, partial=partial)
        services.return_case_update(actor=request.user, case=case, version=version, **changes)
        return self._detail_response(self._reload(case))

    @extend_schema(
        request=s.ReturnCaseUpdateSerializer,
        responses={200: s.ReturnCaseDetailSerializer, **PRECONDITION_RESPONSES},
        parameters=[IF_MATCH, ETAG],
    )
    def update(self, request, pk=None):
        """Replace every detail (send them all) of the version named by If-Match. The stage changes only by moves."""
        return self._update(request, pk, partial=False)

    @extend_schema(
        request=s.ReturnCaseUpdateSerializer,
        responses={200: s.ReturnCaseDetailSerializer, **PRECONDITION_RESPONSES},
        parameters=[IF_MATCH, ETAG],
    )
    def partial_update(self, request, pk=None):
        """Change the details sent, on the version named by If-Match."""
        return self._update(request, pk, partial=True)

    @extend_schema(
        request=s.ReturnCaseTransitionSerializer,
        responses=MOVE_RESPONSES,
        parameters=[OPTIONAL_IF_MATCH, ETAG],
    )
    @action(detail=True, methods=["post"])
    def transitions(self, request, pk=None):
        """Move the case (returns.flow): 200 with the case; a refused move answers 409 (not allowed now, with the
        reason) or 400 (an input at fault, named). `withdraw` — the person changed their mind — is open until
        embarkation and never after; no formal withdrawal of the asylum claim is ever asked for (Letter)."""
        case = self._get_for_write(pk)
        version = optional_if_match_version(request)
        data = self.validated_input(s.ReturnCaseTransitionSerializer)
        inputs = {name: data[name] for name in s.MOVE_INPUTS if data.get(name) not in (None, "")}
        services.return_case_move(
            actor=request.user,
            case=case,
            transition=data["transition"],
            reason=data["reason"],
            version=version,
            **inputs,
        )
        return self._detail_response(self._reload(case))

    @extend_schema(request=s.ReturnCaseAddMemberSerializer, responses={201: s.ReturnCaseDetailSerializer})
    @action(detail=True, methods=["post"], url_path="members")
    def add_member(self, request, pk=None):
        """Add a household member to the case (before embarkation)."""
        case = self._get_for_write(pk)
        data = self.validated_input(s.ReturnCaseAddMemberSerializer)
        services.return_case_add_member(actor=request.user, case=case, beneficiary=data["person"])
        return self._detail_response(self._reload(case), status_code=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None}, parameters=[PERSON_ID])
    @action(detail=True, methods=["delete"], url_path=r"members/(?P<person_id>[^/.]+)")
    def remove_member(self, request, pk=None, person_id=None):
        """Take a member off the case (before embarkation; never the principal applicant: withdraw the case)."""
        case = self._get_for_write(pk)
        if not re.fullmatch(r"[0-9]{1,18}", person_id or ""):
            raise Http404
        member = case.members.filter(beneficiary_id=int(person_id)).first()
        if member is None:
            raise Http404
        services.return_case_remove_member(actor=request.user, case=case, member=member)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=s.CaseMeasureCreateSerializer, responses={201: s.ReturnCaseDetailSerializer})
    @action(detail=True, methods=["post"])
    def measures(self, request, pk=None):
        """Record an additional measure done for a person of concern to UNHCR (Letter)."""
        case = self._get_for_write(pk)
        data = self.validated_input(s.CaseMeasureCreateSerializer)
        services.case_measure_record(actor=request.user, case=case, **data)
        return self._detail_response(self._reload(case), status_code=status.HTTP_201_CREATED)

    @extend_schema(request=s.ReintegrationVisitCreateSerializer, responses={201: s.ReturnCaseDetailSerializer})
    @action(detail=True, methods=["post"])
    def visits(self, request, pk=None):
        """Record a reintegration follow-up visit (after arrival), with its date and outcome."""
        case = self._get_for_write(pk)
        data = self.validated_input(s.ReintegrationVisitCreateSerializer)
        services.reintegration_visit_record(actor=request.user, case=case, **data)
        return self._detail_response(self._reload(case), status_code=status.HTTP_201_CREATED)


# --- Repatriation operations and return agreements ----------------------------------------------------


class _VersionedViewSet(mixins.ListModelMixin, ScopedViewSet):
    """Read by every member of staff (and partner systems with the scope); written by the recording office's staff,
    PUT and PATCH on the version named by If-Match."""

    update_serializer_class: Any = None

    def _get(self, pk, *, action: str = access.VIEW):
        raise NotImplementedError

    def _get_for_write(self, pk):
        principal = self.request.user
        record = self._get(pk, action=lookup_action(principal, self.access_resource))
        access.require(principal, access.CHANGE, self.access_resource, office=record.office_id)
        return record

    def _detail_response(self, record, *, status_code: int = status.HTTP_200_OK) -> Response:
        record = self._get(record.pk, action=lookup_action(self.request.user, self.access_resource))
        return Response(self.output(record), status=status_code, headers={"ETag": etag_for(record)})

    def retrieve(self, request, pk=None):
        return self._detail_response(self._get(pk))


class RepatriationOperationViewSet(_VersionedViewSet):
    """Expected voluntary repatriation operations and large-scale spontaneous movements, recorded early by UNHCR so
    that IOM knows at an early stage of planning (MOU §31). Never deleted: cancelled through their status."""

    serializer_class = s.RepatriationOperationSerializer
    filterset_class = RepatriationOperationFilterSet
    access_resource = "repatriation_operation"

    def get_queryset(self):
        return selectors.operation_qs_for(principal=self.request.user)

    def _get(self, pk, *, action: str = access.VIEW):
        return selectors.operation_get_for_user(principal=self.request.user, pk=pk, action=action)

    @extend_schema(responses={200: s.RepatriationOperationSerializer}, parameters=[ETAG])
    def retrieve(self, request, pk=None):
        return super().retrieve(request, pk)

    @extend_schema(
        request=s.RepatriationOperationCreateSerializer,
        responses={201: s.RepatriationOperationSerializer},
        parameters=[ETAG],
    )
    def create(self, request):
        """Record an operation at a UNHCR office the caller works for (MOU §31)."""
        data = self.validated_input(s.RepatriationOperationCreateSerializer)
        operation = services.operation_create(actor=request.user, office=data.pop("office"), **data)
        return self._detail_response(operation, status_code=status.HTTP_201_CREATED)

    def _update(self, request, pk, *, partial: bool) -> Response:
        operation = self._get_for_write(pk)
        version = if_match_version(request)
        changes = self.validated_input(s.RepatriationOperationUpdateSerializer, partial=partial)
        operation = services.operation_update(actor=request.user, operation=operation, version=version, **changes)
        return self._detail_response(operation)

    @extend_schema(
        request=s.RepatriationOperationUpdateSerializer,
        responses={200: s.RepatriationOperationSerializer, **PRECONDITION_RESPONSES},
        parameters=[IF_MATCH, ETAG],
    )
    def update(self, request, pk=None):
        return self._update(request, pk, partial=False)

    @extend_schema(
        request=s.RepatriationOperationUpdateSerializer,
        responses={200: s.RepatriationOperationSerializer, **PRECONDITION_RESPONSES},
        parameters=[IF_MATCH, ETAG],
    )
    def partial_update(self, request, pk=None):
        return self._update(request, pk, partial=True)


class ReturnAgreementViewSet(_VersionedViewSet):
    """Tripartite and quadripartite return agreements (Letter: country of origin, host country, UNHCR, IOM), with
    validity and review dates. Never deleted."""

    serializer_class = s.ReturnAgreementSerializer
    filterset_class = ReturnAgreementFilterSet
    access_resource = "return_agreement"

    def get_queryset(self):
        return selectors.agreement_qs_for(principal=self.request.user)

    def _get(self, pk, *, action: str = access.VIEW):
        return selectors.agreement_get_for_user(principal=self.request.user, pk=pk, action=action)

    @extend_schema(responses={200: s.ReturnAgreementSerializer}, parameters=[ETAG])
    def retrieve(self, request, pk=None):
        return super().retrieve(request, pk)

    @extend_schema(
        request=s.ReturnAgreementCreateSerializer, responses={201: s.ReturnAgreementSerializer}, parameters=[ETAG]
    )
    def create(self, request):
        """Record an agreement at an office the caller manages."""
        data = self.validated_input(s.ReturnAgreementCreateSerializer)
        agreement = services.agreement_create(
            actor=request.user, office=data.pop("office"), parties=data.pop("parties"), **data
        )
        return self._detail_response(agreement, status_code=status.HTTP_201_CREATED)

    def _update(self, request, pk, *, partial: bool) -> Response:
        agreement = self._get_for_write(pk)
        version = if_match_version(request)
        changes = self.validated_input(s.ReturnAgreementUpdateSerializer, partial=partial)
        agreement = services.agreement_update(actor=request.user, agreement=agreement, version=version, **changes)
        return self._detail_response(agreement)

    @extend_schema(
        request=s.ReturnAgreementUpdateSerializer,
        responses={200: s.ReturnAgreementSerializer, **PRECONDITION_RESPONSES},
        parameters=[IF_MATCH, ETAG],
    )
    def update(self, request, pk=None):
        return self._update(request, pk, partial=False)

    @extend_schema(
        request=s.ReturnAgreementUpdateSerializer,
        responses={200: s.ReturnAgreementSerializer, **PRECONDITION_RESPONSES},
        parameters=[IF_MATCH, ETAG],
    )
    def partial_update(self, request, pk=None):
        return self._update(request, pk, partial=True)
