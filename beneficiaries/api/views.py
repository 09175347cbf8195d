"""API of people, households, beneficiary categories and the mandate matrix (MOU §4-§19).

Reads start from beneficiaries.selectors (scoped by jointops.access: hidden records answer 404), lists are
filtered by the app's FilterSets, writes go through beneficiaries.services (which check the record's office again
and audit). Every read of a person's record, and every page of people, is written to the access log (ids only).
People are never deleted (405): duplicates are merged, keeping both records.

Concurrent edits (RELIABILITY.md): a person's detail answers an `ETag` carrying its version; PUT and PATCH need
`If-Match` with that ETag (missing: 428; stale: 412, nothing overwritten).
"""

from __future__ import annotations

import re

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from beneficiaries import selectors, services
from beneficiaries.api import serializers as s
from beneficiaries.filters import BeneficiaryFilterSet, HouseholdFilterSet
from beneficiaries.models import Beneficiary
from jointops import access
from jointops.api.base import ScopedViewSet
from jointops.api.concurrency import (
    ETAG,
    IF_MATCH,
    PRECONDITION_RESPONSES,
    etag_for,
    if_match_version,
    lookup_action,
)
from jointops.api.pagination import DefaultCursorPagination
from jointops.audit import log_access

DOCUMENT_ID = OpenApiParameter("document_id", int, OpenApiParameter.PATH, description="Id of the document.")


class ReferenceCursorPagination(DefaultCursorPagination):
    ordering = "pk"  # the order of the data migration: MOU §4's order of categories


# --- People -------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        description="People the caller may see (their offices' records, and those another agency shared with them), "
        "newest first. Fields the caller may not read of a record are left out. Each page is written to the access log."
    ),
)
class BeneficiaryViewSet(mixins.ListModelMixin, ScopedViewSet):
    """People served by either agency."""

    serializer_class = s.BeneficiarySerializer
    filterset_class = BeneficiaryFilterSet
    access_resource = "beneficiary"
    access_actions = {"check_duplicates": access.VIEW}  # reads only: writes nothing

    def get_queryset(self):
        return selectors.beneficiary_qs_for(principal=self.request.user)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        user = getattr(self.request, "user", None)
        return {**context, "lookup_action": lookup_action(user, "beneficiary")}

    # Helpers

    def _get_for_write(self, pk) -> Beneficiary:
        """The person to change: 404 if hidden; 403 if visible (e.g. shared with the caller) but not the caller's to
        change — checked before If-Match and the body, so a refusal says the real reason."""
        principal = self.request.user
        person = selectors.beneficiary_get_for_user(
            principal=principal, pk=pk, action=lookup_action(principal, "beneficiary"), log=False
        )
        access.require(principal, access.CHANGE, "beneficiary", office=person.office_id)
        return person

    def _reload(self, person: Beneficiary) -> Beneficiary:
        principal = self.request.user
        return selectors.beneficiary_get_for_user(
            principal=principal, pk=person.pk, action=lookup_action(principal, "beneficiary"), log=False
        )

    def _detail_response(self, person: Beneficiary, *, status_code: int = status.HTTP_200_OK) -> Response:
        related = selectors.beneficiary_detail_related(person=person)
        body = self.output(person, serializer_class=s.BeneficiaryDetailSerializer, related=related)
        return Response(body, status=status_code, headers={"ETag": etag_for(person)})

    def _candidates_response(self, found) -> Response:
        people = [person for person, _candidate in found]
        if people:
            log_access(
                actor=self.request.user,
                action="list",
                resource="beneficiary",
                object_ids=[person.pk for person in people],
                purpose="duplicate check",
                path=self.request.path,
            )
        candidates = {person.pk: candidate for person, candidate in found}
        serializer = s.DuplicateCandidateSerializer
        return Response([self.output(person, serializer_class=serializer, candidates=candidates) for person in people])

    # Reads

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        if page:
            log_access(
                actor=request.user,
                action="list",
                resource="beneficiary",
                object_ids=[person.pk for person in page],
                path=request.path,
            )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(responses={200: s.BeneficiaryDetailSerializer}, parameters=[ETAG])
    def retrieve(self, request, pk=None):
        """One person, with documents, category history and household. The read is written to the access log."""
        person = selectors.beneficiary_get_for_user(principal=request.user, pk=pk, path=request.path)
        return self._detail_response(person)

    # Writes

    @extend_schema(
        request=s.BeneficiaryCreateSerializer, responses={201: s.BeneficiaryDetailSerializer}, parameters=[ETAG]
    )
    def create(self, request):
        """Register a person. Check likely duplicates first with check-duplicates (saving is still allowed)."""
        data = self.validated_input(s.BeneficiaryCreateSerializer)
        person = services.beneficiary_register(
            actor=request.user,
            office=data.pop("office"),
            category=data.pop("category"),
            category_since=data.pop("category_since", None),
            **data,
        )
        response = self._detail_response(self._reload(person), status_code=status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(f"{request.path}{person.pk}/")
        return response

    def _update(self, request, pk, *, partial: bool) -> Response:
        person = self._get_for_write(pk)
        version = if_match_version(request)
        changes = self.validated_input(s.BeneficiaryUpdateSerializer, partial=partial)
        services.beneficiary_update(actor=request.user, beneficiary=person, version=version, **changes)
        return self._detail_response(self._reload(person))

    @extend_schema(
        request=s.BeneficiaryUpdateSerializer,
        responses={200: s.BeneficiaryDetailSerializer, **PRECONDITION_RESPONSES},
        parameters=[IF_MATCH, ETAG],
    )
    def update(self, request, pk=None):
        """Replace every editable field (send them all) of the version named by If-Match."""
        return self._update(request, pk, partial=False)

    @extend_schema(
        request=s.BeneficiaryUpdateSerializer,
        responses={200: s.BeneficiaryDetailSerializer, **PRECONDITION_RESPONSES},
        parameters=[IF_MATCH, ETAG],
    )
    def partial_update(self, request, pk=None):
        """Change the fields sent, on the version named by If-Match."""
        return self._update(request, pk, partial=True)

    @extend_schema(request=s.CategoryChangeCreateSerializer, responses={201: s.CategoryChangeSerializer})
    @action(detail=True, methods=["post"], url_path="category-changes")
    def category_changes(self, request, pk=None):
        """Record a dated change of category; the current category is the one with the latest date."""
        person = self._get_for_write(pk)
        data = self.validated_input(s.CategoryChangeCreateSerializer)
        change = services.beneficiary_change_category(actor=request.user, beneficiary=person, **data)
        return Response(
            self.output(change, serializer_class=s.CategoryChangeSerializer), status=status.HTTP_201_CREATED
        )

    @extend_schema(request=s.IdentityDocumentCreateSerializer, responses={201: s.IdentityDocumentSerializer})
    @action(detail=True, methods=["post"], url_path="documents")
    def add_document(self, request, pk=None):
        """Add an identity or travel document."""
        person = self._get_for_write(pk)
        data = self.validated_input(s.IdentityDocumentCreateSerializer)
        document = services.document_add(actor=request.user, beneficiary=person, **data)
        body = self.output(document, serializer_class=s.IdentityDocumentSerializer)
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None}, parameters=[DOCUMENT_ID])
    @action(detail=True, methods=["delete"], url_path=r"documents/(?P<document_id>[^/.]+)")
    def remove_document(self, request, pk=None, document_id=None):
        """Remove an identity or travel document (recorded in the audit trail)."""
        person = self._get_for_write(pk)
        if not re.fullmatch(r"[0-9]{1,18}", document_id or ""):
            raise Http404
        document = person.documents.filter(pk=int(document_id)).first()
        if document is None:
            raise Http404
        services.document_remove(actor=request.user, document=document)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=s.BeneficiaryShareCreateSerializer, responses={200: s.BeneficiaryShareSerializer})
    @action(detail=True, methods=["post"])
    def share(self, request, pk=None):
        """Share the record with an office of the other agency, on the legitimate basis recorded on it."""
        person = self._get_for_write(pk)
        data = self.validated_input(s.BeneficiaryShareCreateSerializer)
        share = services.beneficiary_share(actor=request.user, beneficiary=person, office=data["office"])
        return Response(self.output(share, serializer_class=s.BeneficiaryShareSerializer))

    @extend_schema(
        request=s.BeneficiaryMergeSerializer, responses={200: s.BeneficiaryDetailSerializer}, parameters=[ETAG]
    )
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        """Merge the `duplicate` record into this one; the duplicate stays, marked merged, with its audit trail."""
        survivor = self._get_for_write(pk)
        data = self.validated_input(s.BeneficiaryMergeSerializer)
        services.beneficiary_merge(actor=request.user, survivor=survivor, duplicate=data["duplicate"])
        return self._detail_response(self._reload(survivor))

    @extend_schema(responses={200: s.DuplicateCandidateSerializer(many=True)})
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def duplicates(self, request, pk=None):
        """Likely duplicates of this record among those the caller may see, best first."""
        person = selectors.beneficiary_get_for_user(principal=request.user, pk=pk, log=False)
        found = selectors.duplicate_candidates(
            principal=request.user,
            given_name=person.given_name,
            family_name=person.family_name,
            date_of_birth=person.date_of_birth,
            nationality=person.nationality.code or "",
            exclude_pk=person.pk,
        )
        return self._candidates_response(found)

    @extend_schema(request=s.DuplicateCheckSerializer, responses={200: s.DuplicateCandidateSerializer(many=True)})
    @action(detail=False, methods=["post"], url_path="check-duplicates", filter_backends=[], pagination_class=None)
    def check_duplicates(self, request):
        """Likely duplicates of a person about to be registered (writes nothing)."""
        data = self.validated_input(s.DuplicateCheckSerializer)
        return self._candidates_response(selectors.duplicate_candidates(principal=request.user, **data))


# --- Households ---------------------------------------------------------------------------------------


class HouseholdViewSet(mixins.ListModelMixin, ScopedViewSet):
    """People grouped with a head of household; the household belongs to the head's office."""

    serializer_class = s.HouseholdSerializer
    filterset_class = HouseholdFilterSet
    access_resource = "household"

    def get_queryset(self):
        return selectors.household_qs_for(principal=self.request.user)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        user = getattr(self.request, "user", None)
        return {**context, "lookup_action": lookup_action(user, "beneficiary")}

    def _get(self, pk):
        principal = self.request.user
        return selectors.household_get_for_user(
            principal=principal, pk=pk, action=lookup_action(principal, "household")
        )

    def _log_members(self, households, *, action: str, purpose: str) -> None:
        """Issue 8: the body names the households' members, so the read is written to the access log."""
        people = list(dict.fromkeys(m.pk for household in households for m in household.members.all()))
        if people:
            log_access(
                actor=self.request.user,
                action=action,
                resource="beneficiary",
                object_ids=people,
                purpose=purpose,
                path=self.request.path,
            )

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        self._log_members(page or [], action="list", purpose="households")
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        household = self._get(pk)
        self._log_members([household], action="view", purpose=f"household {household.reference}")
        return Response(self.output(household))

    @extend_schema(request=s.HouseholdCreateSerializer, responses={201: s.HouseholdSerializer})
    def create(self, request):
        data = self.validated_input(s.HouseholdCreateSerializer)
        household = services.household_create(actor=request.user, head=data["head"], notes=data["notes"])
        return Response(self.output(self._get(household.pk)), status=status.HTTP_201_CREATED)

    @extend_schema(request=s.HouseholdAddMemberSerializer, responses={200: s.HouseholdSerializer})
    @action(detail=True, methods=["post"], url_path="add-member")
    def add_member(self, request, pk=None):
        household = self._get(pk)
        data = self.validated_input(s.HouseholdAddMemberSerializer)
        services.household_add_member(
            actor=request.user, household=household, beneficiary=data["beneficiary"], relationship=data["relationship"]
        )
        return Response(self.output(self._get(household.pk)))

    @extend_schema(request=s.HouseholdRemoveMemberSerializer, responses={200: s.HouseholdSerializer})
    @action(detail=True, methods=["post"], url_path="remove-member")
    def remove_member(self, request, pk=None):
        household = self._get(pk)
        data = self.validated_input(s.HouseholdRemoveMemberSerializer)
        services.household_remove_member(actor=request.user, household=household, beneficiary=data["beneficiary"])
        return Response(self.output(self._get(household.pk)))


# --- Reference data -----------------------------------------------------------------------------------


class BeneficiaryCategoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """The beneficiary categories of MOU §4, each with every organisation's mandate for it."""

    serializer_class = s.BeneficiaryCategorySerializer
    access_resource = "reference"
    pagination_class = ReferenceCursorPagination
    lookup_field = "code"

    def get_queryset(self):
        return selectors.category_qs()


class MandateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """The mandate matrix: category × organisation, with the role, what it covers and the paragraph it rests on."""

    serializer_class = s.MandateSerializer
    access_resource = "reference"
    pagination_class = ReferenceCursorPagination

    def get_queryset(self):
        return selectors.mandate_qs()
