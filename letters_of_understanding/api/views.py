"""API of Letters of Understanding (MOU §5, §36-§47): `/api/v1/letters-of-understanding/`.

Reads start from letters_of_understanding.selectors (an LoU is visible to both parties' offices, the offices above
them and both organisations' HQ focal points; hidden and missing letters answer 404), lists are filtered by
LetterOfUnderstandingFilterSet; every write calls exactly one service of letters_of_understanding.services — the
same code the browser calls — which checks the act against letters_of_understanding.lifecycle. A refused act answers
with its reason: 409 when the letter's state or a rule forbids it now (e.g. MOU §46: the other party approves an
amendment), 403 when the caller may not perform it (signatures, decisions, notices and agreements are acts of an office
manager; partner systems draft and record but never commit a party), 400 naming the input at fault (e.g. MOU §45:
`effective_on` at least 90 days after the notice). Nothing is deleted (405): a draft is abandoned, a letter in force
terminated or concluded.

Concurrent edits (RELIABILITY.md): the letter answers an `ETag` carrying its version; PUT and PATCH of the draft need
`If-Match` (missing: 428; stale: 412, nothing overwritten). A signature takes `If-Match` optionally (the party signs
the text it read); the agreement to a phase-out plan optionally takes the plan's ETag.
"""

from __future__ import annotations

import re

from django.http import Http404, HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings

from jointops import access
from jointops.api.base import ScopedViewSet
from jointops.api.concurrency import ETAG, IF_MATCH, PRECONDITION_RESPONSES, etag_for, if_match_version, lookup_action
from jointops.api.serializers import ApiErrorSerializer, CountryCodeField
from jointops.exceptions import PermissionRefused
from letters_of_understanding import content as text
from letters_of_understanding import documents, lifecycle, selectors, services
from letters_of_understanding.api import serializers as s
from letters_of_understanding.filters import LetterOfUnderstandingFilterSet
from letters_of_understanding.models import LetterOfUnderstanding

RESOURCE = "lou"

# The `country` filter is a method over django-countries' lazy choices, whose type drf-spectacular cannot guess: the
# schema documents it as the ISO 3166-1 code it is.
extend_schema_field(CountryCodeField())(LetterOfUnderstandingFilterSet.base_filters["country"])
_ID_RE = re.compile(r"[0-9]{1,18}")


def _path_id(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, int, OpenApiParameter.PATH, description=description)


ROW_ID = _path_id("row_id", "Id of the activity, funding arrangement or secondment.")
AMENDMENT_ID = _path_id("amendment_id", "Id of the amendment.")
VERSION_NUMBER = _path_id("number", "Version number of the text (1 = the text signed by both parties).")
ACTION_ID = _path_id("action_id", "Id of the phase-out action.")
OBLIGATION_ID = _path_id("obligation_id", "Id of the obligation.")
ITEM_ID = _path_id("item_id", "Id of the asset.")
OPTIONAL_IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description='Optional: the ETag as you read it, e.g. "3". Someone changed it since: 412, nothing recorded.',
)


def _refusals(conflict: str, forbidden: str | None = None) -> dict:
    responses = {409: OpenApiResponse(ApiErrorSerializer, description=conflict)}
    if forbidden:
        responses[403] = OpenApiResponse(ApiErrorSerializer, description=forbidden)
    return responses


MANAGER_ACT = _("Only an office manager of a party performs this act; partner systems never do (403).")
NOT_NOW = _("The letter's status, or a rule of the MOU (cited in the reason), forbids it now.")
DRAFT_ONLY = _("Only the draft's text changes; a signed or in-force text changes by amendment (MOU §46).")
OWN_AGENCY = _("MOU §40: each agency lists its own obligations and assets (403 for the other party's).")


def optional_if_match_version(request) -> int | None:
    """The version named by If-Match when the caller sent one (`*` or nothing: any version)."""
    raw = request.headers.get("If-Match", "").strip()
    if raw in ("", "*"):
        return None
    return if_match_version(request)


def _sub_id(value: str | None) -> int:
    """A record id from the URL; anything else is unknown (404)."""
    if not _ID_RE.fullmatch(value or ""):
        raise Http404
    return int(value)


@extend_schema_view(
    list=extend_schema(
        description="Letters of Understanding of the offices the caller works for (as a party, or above a party), "
        "or of the caller's organisation for HQ focal points (MOU §35); newest first."
    ),
)
class LetterOfUnderstandingViewSet(mixins.ListModelMixin, ScopedViewSet):
    """Field-level Letters of Understanding (MOU §5): drafted by either party, in force once both have signed, amended
    only by mutual consent (§46), reviewed at least annually (§47), phased out under a plan both agree (§39), settled
    (§40), concluded or terminated on 90 days' notice (§45). Never deleted (405)."""

    serializer_class = s.LetterOfUnderstandingSerializer
    filterset_class = LetterOfUnderstandingFilterSet
    access_resource = RESOURCE

    def get_queryset(self):
        return selectors.lou_qs_for(principal=self.request.user)

    def perform_content_negotiation(self, request, force=False):
        # The PDF answers application/pdf itself; its errors fall back to the API's JSON body.
        return super().perform_content_negotiation(request, force=force or getattr(self, "action", None) == "pdf")

    # Helpers

    def _get(self, pk) -> LetterOfUnderstanding:
        return selectors.lou_get_for_user(principal=self.request.user, pk=pk)

    def _get_for_write(self, pk) -> LetterOfUnderstanding:
        """The letter to act on: 404 if hidden; 403 if visible but not the caller's to change (checked before If-Match
        and the body, so a refusal says the real reason). Which party acts, and with which role, the service decides."""
        principal = self.request.user
        lou = selectors.lou_get_for_user(principal=principal, pk=pk, action=lookup_action(principal, RESOURCE))
        if not any(
            access.can(principal, access.CHANGE, RESOURCE, office=office)
            for office in (lou.unhcr_office_id, lou.iom_office_id)
        ):
            raise PermissionRefused()
        return lou

    def _detail_response(self, pk, *, status_code: int = status.HTTP_200_OK) -> Response:
        principal = self.request.user
        if lookup_action(principal, RESOURCE) == access.VIEW:
            lou = selectors.lou_detail_for_user(principal=principal, pk=pk)
        else:  # a partner system holding only the write scope sees what it wrote
            lou = selectors.lou_get_for_user(principal=principal, pk=pk, action=access.CHANGE)
        related = {
            "allowed_actions": [
                {"name": act.name, "label": str(act.label), "allowed": reason is None, "reason": reason}
                for act, reason in lifecycle.actions_for(principal, lou)
            ],
            "timeline": selectors.lou_timeline(lou=lou),
            "content_hash": text.content_hash(selectors.lou_current_content(lou=lou)),
        }
        body = self.output(lou, serializer_class=s.LetterOfUnderstandingDetailSerializer, related=related)
        return Response(body, status=status_code, headers={"ETag": etag_for(lou)})

    def _reload(self, pk) -> LetterOfUnderstanding:
        return selectors.lou_get_for_user(
            principal=self.request.user, pk=pk, action=lookup_action(self.request.user, RESOURCE)
        )

    def _output(
        self, record, serializer_class, *, many: bool = False, status_code: int = status.HTTP_200_OK, **context
    ) -> Response:
        serializer = serializer_class(record, many=many, context={**self.get_serializer_context(), **context})
        return Response(serializer.data, status=status_code)

    def _query(self, serializer_class) -> dict:
        """Validate the query string (`?format=` aside) with a strict serializer: a 400 names each parameter."""
        params = self.request.query_params.dict()
        params.pop(api_settings.URL_FORMAT_OVERRIDE, None)
        serializer = serializer_class(data=params, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    # The letter

    @extend_schema(responses={200: s.LetterOfUnderstandingDetailSerializer}, parameters=[ETAG])
    def retrieve(self, request, pk=None):
        """The whole letter: its text, parties, dates, signatures (with the hash of the text signed), versions,
        amendments, reviews, evaluations, phase-out plan, obligations, assets, timeline, and the acts the caller could
        perform in its status (`allowed`, or the `reason` a rule still blocks it)."""
        return self._detail_response(pk)

    @extend_schema(
        request=s.LouCreateSerializer, responses={201: s.LetterOfUnderstandingDetailSerializer}, parameters=[ETAG]
    )
    def create(self, request):
        """Draft a letter between a UNHCR and an IOM office; the caller works at one of the two (MOU §5)."""
        data = self.validated_input(s.LouCreateSerializer)
        lou = services.lou_create(
            actor=request.user,
            unhcr_office=data.pop("unhcr_office"),
            iom_office=data.pop("iom_office"),
            categories=data.pop("categories", None),
            **data,
        )
        response = self._detail_response(lou.pk, status_code=status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(f"{request.path}{lou.pk}/")
        return response

    def _update(self, request, pk, *, partial: bool) -> Response:
        lou = self._get_for_write(pk)
        version = if_match_version(request)
        changes = self.validated_input(s.LouUpdateSerializer, partial=partial)
        categories = changes.pop("categories", None)
        services.lou_update(actor=request.user, lou=lou, version=version, categories=categories, **changes)
        return self._detail_response(lou.pk)

    @extend_schema(
        request=s.LouUpdateSerializer,
        responses={
            200: s.LetterOfUnderstandingDetailSerializer,
            **PRECONDITION_RESPONSES,
            **_refusals(DRAFT_ONLY),
        },
        parameters=[IF_MATCH, ETAG],
    )
    def update(self, request, pk=None):
        """Replace the draft's fields (send them all) on the version named by If-Match."""
        return self._update(request, pk, partial=False)

    @extend_schema(
        request=s.LouUpdateSerializer,
        responses={
            200: s.LetterOfUnderstandingDetailSerializer,
            **PRECONDITION_RESPONSES,
            **_refusals(DRAFT_ONLY),
        },
        parameters=[IF_MATCH, ETAG],
    )
    def partial_update(self, request, pk=None):
        """Change the draft's fields sent, on the version named by If-Match."""
        return self._update(request, pk, partial=True)

    # The rows of the draft's text (MOU §5, §36, §37)

    def _row_add(self, pk, collection: str, serializer_class) -> Response:
        lou = self._get_for_write(pk)
        data = self.validated_input(serializer_class)
        services.lou_row_add(actor=self.request.user, lou=lou, collection=collection, **data)
        return self._detail_response(lou.pk, status_code=status.HTTP_201_CREATED)

    def _row_update(self, pk, collection: str, row_id, serializer_class) -> Response:
        lou = self._get_for_write(pk)
        row_id = _sub_id(row_id)
        if not getattr(lou, collection).filter(pk=row_id).exists():
            raise Http404
        data = self.validated_input(serializer_class, partial=True)
        services.lou_row_update(actor=self.request.user, lou=lou, collection=collection, row_id=row_id, **data)
        return self._detail_response(lou.pk)

    def _row_remove(self, pk, collection: str, row_id) -> Response:
        lou = self._get_for_write(pk)
        row_id = _sub_id(row_id)
        if not getattr(lou, collection).filter(pk=row_id).exists():
            raise Http404
        self.validated_input(s.EmptySerializer)
        services.lou_row_remove(actor=self.request.user, lou=lou, collection=collection, row_id=row_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=s.ActivityInputSerializer,
        responses={201: s.LetterOfUnderstandingDetailSerializer, **_refusals(DRAFT_ONLY)},
    )
    @action(detail=True, methods=["post"])
    def activities(self, request, pk=None):
        """Add an agreed activity of one agency to the draft (MOU §5)."""
        return self._row_add(pk, "activities", s.ActivityInputSerializer)

    @extend_schema(
        request=s.ActivityInputSerializer,
        responses={200: s.LetterOfUnderstandingDetailSerializer, **_refusals(DRAFT_ONLY)},
        parameters=[ROW_ID],
    )
    @action(detail=True, methods=["patch"], url_path=r"activities/(?P<row_id>[^/.]+)")
    def activity(self, request, pk=None, row_id=None):
        """Change the fields sent of one activity of the draft."""
        return self._row_update(pk, "activities", row_id, s.ActivityInputSerializer)

    @extend_schema(request=None, responses={204: None, **_refusals(DRAFT_ONLY)}, parameters=[ROW_ID])
    @activity.mapping.delete
    def activity_remove(self, request, pk=None, row_id=None):
        """Take an activity off the draft."""
        return self._row_remove(pk, "activities", row_id)

    @extend_schema(
        request=s.FundingInputSerializer,
        responses={201: s.LetterOfUnderstandingDetailSerializer, **_refusals(DRAFT_ONLY)},
    )
    @action(detail=True, methods=["post"])
    def funding(self, request, pk=None):
        """Add a funding arrangement to the draft (MOU §36)."""
        return self._row_add(pk, "funding", s.FundingInputSerializer)

    @extend_schema(
        request=s.FundingInputSerializer,
        responses={200: s.LetterOfUnderstandingDetailSerializer, **_refusals(DRAFT_ONLY)},
        parameters=[ROW_ID],
    )
    @action(detail=True, methods=["patch"], url_path=r"funding/(?P<row_id>[^/.]+)")
    def funding_arrangement(self, request, pk=None, row_id=None):
        """Change the fields sent of one funding arrangement of the draft."""
        return self._row_update(pk, "funding", row_id, s.FundingInputSerializer)

    @extend_schema(request=None, responses={204: None, **_refusals(DRAFT_ONLY)}, parameters=[ROW_ID])
    @funding_arrangement.mapping.delete
    def funding_arrangement_remove(self, request, pk=None, row_id=None):
        """Take a funding arrangement off the draft."""
        return self._row_remove(pk, "funding", row_id)

    @extend_schema(
        request=s.SecondmentInputSerializer,
        responses={201: s.LetterOfUnderstandingDetailSerializer, **_refusals(DRAFT_ONLY)},
    )
    @action(detail=True, methods=["post"])
    def secondments(self, request, pk=None):
        """Add a staff secondment to the draft (MOU §37)."""
        return self._row_add(pk, "secondments", s.SecondmentInputSerializer)

    @extend_schema(
        request=s.SecondmentInputSerializer,
        responses={200: s.LetterOfUnderstandingDetailSerializer, **_refusals(DRAFT_ONLY)},
        parameters=[ROW_ID],
    )
    @action(detail=True, methods=["patch"], url_path=r"secondments/(?P<row_id>[^/.]+)")
    def secondment(self, request, pk=None, row_id=None):
        """Change the fields sent of one staff secondment of the draft."""
        return self._row_update(pk, "secondments", row_id, s.SecondmentInputSerializer)

    @extend_schema(request=None, responses={204: None, **_refusals(DRAFT_ONLY)}, parameters=[ROW_ID])
    @secondment.mapping.delete
    def secondment_remove(self, request, pk=None, row_id=None):
        """Take a staff secondment off the draft."""
        return self._row_remove(pk, "secondments", row_id)

    # Signature, reopening, abandonment

    @extend_schema(
        request=s.LouSignSerializer,
        responses={
            200: s.LetterOfUnderstandingDetailSerializer,
            412: PRECONDITION_RESPONSES[412],
            **_refusals(_("Already signed by your party, or the text is incomplete (MOU §5)."), MANAGER_ACT),
        },
        parameters=[OPTIONAL_IF_MATCH, ETAG],
    )
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        """Sign the draft as it stands for the caller's party; the SHA-256 of the text is kept with the signature. In
        force from the second signature (MOU §44 by analogy): version 1 is kept, the first review falls due 12 months
        later (MOU §47)."""
        lou = self._get_for_write(pk)
        version = optional_if_match_version(request)
        data = self.validated_input(s.LouSignSerializer)
        services.lou_sign(actor=request.user, lou=lou, version=version, **data)
        return self._detail_response(lou.pk)

    @extend_schema(
        request=s.ReasonSerializer,
        responses={200: s.LetterOfUnderstandingDetailSerializer, **_refusals(NOT_NOW, MANAGER_ACT)},
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """Back to draft: the signature given is voided (kept, with the reason) so the text can change again."""
        lou = self._get_for_write(pk)
        data = self.validated_input(s.ReasonSerializer)
        services.lou_reopen(actor=request.user, lou=lou, reason=data["reason"])
        return self._detail_response(lou.pk)

    @extend_schema(
        request=s.ReasonSerializer,
        responses={200: s.LetterOfUnderstandingDetailSerializer, **_refusals(NOT_NOW, MANAGER_ACT)},
    )
    @action(detail=True, methods=["post"])
    def abandon(self, request, pk=None):
        """Abandon a draft that will not be signed: it is kept, read-only (a letter is never deleted)."""
        lou = self._get_for_write(pk)
        data = self.validated_input(s.ReasonSerializer)
        services.lou_abandon(actor=request.user, lou=lou, reason=data["reason"])
        return self._detail_response(lou.pk)

    # Amendments (MOU §46)

    def _amendment_response(self, amendment, *, status_code: int = status.HTTP_200_OK) -> Response:
        comparison = selectors.amendment_compare(amendment=amendment)
        return self._output(amendment, s.AmendmentDetailSerializer, status_code=status_code, comparison=comparison)

    @extend_schema(
        methods=["GET"],
        request=None,
        responses={200: s.AmendmentSerializer(many=True)},
        description="The amendments proposed to the letter, newest first (MOU §46).",
    )
    @extend_schema(
        methods=["POST"],
        request=s.AmendmentProposeSerializer,
        responses={
            201: s.AmendmentDetailSerializer,
            **_refusals(_("Not in force, an amendment is already awaiting a decision, or the notice took effect.")),
        },
        description="Propose a new text of the letter in force for the caller's party: the whole text in `content`. "
        "It takes effect only when the other party approves it (MOU §46).",
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def amendments(self, request, pk=None):
        if request.method == "GET":
            lou = self._get(pk)
            amendments = lou.amendments.select_related("proposed_by", "proposed_by_client", "decided_by")
            return self._output(amendments, s.AmendmentSerializer, many=True)
        lou = self._get_for_write(pk)
        data = self.validated_input(s.AmendmentProposeSerializer)
        amendment = services.amendment_propose(actor=request.user, lou=lou, **data)
        return self._amendment_response(amendment, status_code=status.HTTP_201_CREATED)

    def _amendment(self, lou, amendment_id):
        return selectors.amendment_get(lou=lou, pk=_sub_id(amendment_id))

    @extend_schema(responses={200: s.AmendmentDetailSerializer}, parameters=[AMENDMENT_ID])
    @action(detail=True, methods=["get"], url_path=r"amendments/(?P<amendment_id>[^/.]+)")
    def amendment(self, request, pk=None, amendment_id=None):
        """One amendment with the proposed text beside the text it amends (`comparison`, in the order of MOU §5)."""
        return self._amendment_response(self._amendment(self._get(pk), amendment_id))

    @extend_schema(
        request=s.AmendmentApproveSerializer,
        responses={
            200: s.AmendmentDetailSerializer,
            **_refusals(_("MOU §46: the other party decides; or the amendment was already decided."), MANAGER_ACT),
        },
        parameters=[AMENDMENT_ID],
    )
    @action(detail=True, methods=["post"], url_path=r"amendments/(?P<amendment_id>[^/.]+)/approve")
    def amendment_approve(self, request, pk=None, amendment_id=None):
        """The other party consents (MOU §46): the proposed text becomes the text in force, a new version is kept."""
        amendment = self._amendment(self._get_for_write(pk), amendment_id)
        data = self.validated_input(s.AmendmentApproveSerializer)
        amendment = services.amendment_approve(actor=request.user, amendment=amendment, **data)
        return self._amendment_response(amendment)

    @extend_schema(
        request=s.AmendmentRejectSerializer,
        responses={
            200: s.AmendmentDetailSerializer,
            **_refusals(_("MOU §46: the other party decides; or the amendment was already decided."), MANAGER_ACT),
        },
        parameters=[AMENDMENT_ID],
    )
    @action(detail=True, methods=["post"], url_path=r"amendments/(?P<amendment_id>[^/.]+)/reject")
    def amendment_reject(self, request, pk=None, amendment_id=None):
        """The other party does not consent; the text in force stays as it is."""
        amendment = self._amendment(self._get_for_write(pk), amendment_id)
        data = self.validated_input(s.AmendmentRejectSerializer)
        amendment = services.amendment_reject(actor=request.user, amendment=amendment, note=data["note"])
        return self._amendment_response(amendment)

    @extend_schema(
        request=None,
        responses={
            200: s.AmendmentDetailSerializer,
            **_refusals(_("Only the proposing party withdraws its amendment, while it awaits a decision.")),
        },
        parameters=[AMENDMENT_ID],
    )
    @action(detail=True, methods=["post"], url_path=r"amendments/(?P<amendment_id>[^/.]+)/withdraw")
    def amendment_withdraw(self, request, pk=None, amendment_id=None):
        """The proposing party withdraws its amendment."""
        amendment = self._amendment(self._get_for_write(pk), amendment_id)
        self.validated_input(s.EmptySerializer)
        amendment = services.amendment_withdraw(actor=request.user, amendment=amendment)
        return self._amendment_response(amendment)

    # Versions of the text in force (MOU §46: every version kept)

    @extend_schema(responses={200: s.LouVersionSummarySerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def versions(self, request, pk=None):
        """Every version of the text in force, oldest first, with its SHA-256."""
        return self._output(self._get(pk).versions.order_by("number"), s.LouVersionSummarySerializer, many=True)

    @extend_schema(responses={200: s.LouVersionSerializer}, parameters=[VERSION_NUMBER])
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>[0-9]+)")
    def version_detail(self, request, pk=None, number=None):
        """One version of the text: its content and SHA-256."""
        return self._output(
            selectors.lou_version_get(lou=self._get(pk), number=_sub_id(number)), s.LouVersionSerializer
        )

    @extend_schema(parameters=[s.VersionCompareQuerySerializer], responses={200: s.LouVersionComparisonSerializer})
    @action(detail=True, methods=["get"], url_path="versions/compare", filter_backends=[])
    def versions_compare(self, request, pk=None):
        """Two versions side by side, one row per field in the order of MOU §5, each with whether it changed."""
        lou = self._get(pk)
        query = self._query(s.VersionCompareQuerySerializer)
        numbers = set(lou.versions.values_list("number", flat=True))
        unknown = {
            name: [_("No such version of this letter.")] for name in ("left", "right") if query[name] not in numbers
        }
        if unknown:
            raise ValidationError(unknown)
        comparison = selectors.lou_versions_compare(lou=lou, left=query["left"], right=query["right"])
        return self._output(comparison, s.LouVersionComparisonSerializer)

    # Termination (MOU §45)

    @extend_schema(
        request=s.TerminationNoticeSerializer,
        responses={200: s.LetterOfUnderstandingDetailSerializer, **_refusals(NOT_NOW, MANAGER_ACT)},
    )
    @action(detail=True, methods=["post"], url_path="termination-notice")
    def termination_notice(self, request, pk=None):
        """Serve written notice for the caller's party; the letter ends at least 90 days later (MOU §45)."""
        lou = self._get_for_write(pk)
        data = self.validated_input(s.TerminationNoticeSerializer)
        services.lou_serve_notice(actor=request.user, lou=lou, **data)
        return self._detail_response(lou.pk)

    # Reviews (MOU §47) and monitoring/evaluation (MOU §38)

    @extend_schema(methods=["GET"], request=None, responses={200: s.ReviewSerializer(many=True)})
    @extend_schema(
        methods=["POST"],
        request=s.ReviewCreateSerializer,
        responses={201: s.ReviewSerializer, **_refusals(NOT_NOW)},
        description="Record a review; the next falls due at most 12 months later (MOU §47).",
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def reviews(self, request, pk=None):
        """The reviews of the letter, latest first (MOU §47)."""
        if request.method == "GET":
            return self._output(self._get(pk).reviews.all(), s.ReviewSerializer, many=True)
        lou = self._get_for_write(pk)
        data = self.validated_input(s.ReviewCreateSerializer)
        review = services.lou_record_review(actor=request.user, lou=lou, **data)
        return self._output(review, s.ReviewSerializer, status_code=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], request=None, responses={200: s.EvaluationSerializer(many=True)})
    @extend_schema(
        methods=["POST"],
        request=s.EvaluationCreateSerializer,
        responses={201: s.EvaluationSerializer, **_refusals(NOT_NOW)},
        description="Record a monitoring report or an evaluation of the joint projects (MOU §38).",
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def evaluations(self, request, pk=None):
        """Monitoring reports and evaluations of the joint projects, latest first (MOU §38)."""
        if request.method == "GET":
            return self._output(self._get(pk).evaluations.all(), s.EvaluationSerializer, many=True)
        lou = self._get_for_write(pk)
        data = self.validated_input(s.EvaluationCreateSerializer)
        evaluation = services.evaluation_record(actor=request.user, lou=lou, **data)
        return self._output(evaluation, s.EvaluationSerializer, status_code=status.HTTP_201_CREATED)

    # Phase-out (MOU §39)

    @extend_schema(
        request=s.ResourcesFlagSerializer,
        responses={200: s.LetterOfUnderstandingDetailSerializer, **_refusals(NOT_NOW)},
    )
    @action(detail=True, methods=["post"], url_path="resources-flag")
    def resources_flag(self, request, pk=None):
        """The caller's party expects resources to be insufficient: a phase-out plan agreed by both is now required
        (MOU §39)."""
        lou = self._get_for_write(pk)
        data = self.validated_input(s.ResourcesFlagSerializer)
        services.lou_flag_resources(actor=request.user, lou=lou, note=data["note"])
        return self._detail_response(lou.pk)

    def _plan_response(self, lou: LetterOfUnderstanding, *, status_code: int = status.HTTP_200_OK) -> Response:
        plan = getattr(lou, "phase_out_plan", None)
        if plan is None:
            raise Http404
        body = s.PhaseOutPlanSerializer(plan, context=self.get_serializer_context()).data
        return Response(body, status=status_code, headers={"ETag": etag_for(plan)})

    @extend_schema(methods=["GET"], request=None, responses={200: s.PhaseOutPlanSerializer}, parameters=[ETAG])
    @extend_schema(
        methods=["PUT"],
        request=s.PhaseOutPlanSaveSerializer,
        responses={200: s.PhaseOutPlanSerializer, **_refusals(NOT_NOW)},
        parameters=[ETAG],
        description="Write (or rewrite) the plan's summary. A change to an agreed plan needs both agreements again "
        "(MOU §39: a mutually agreeable plan).",
    )
    @action(detail=True, methods=["get", "put"], url_path="phase-out-plan")
    def phase_out_plan(self, request, pk=None):
        """The phase-out plan with its actions, owners and dates (MOU §39); 404 until one is written."""
        if request.method == "GET":
            return self._plan_response(self._get(pk))
        lou = self._get_for_write(pk)
        data = self.validated_input(s.PhaseOutPlanSaveSerializer)
        services.phase_out_plan_save(actor=request.user, lou=lou, summary=data["summary"])
        return self._plan_response(self._reload(lou.pk))

    @extend_schema(
        request=s.PhaseOutActionInputSerializer,
        responses={201: s.PhaseOutPlanSerializer, **_refusals(NOT_NOW)},
        parameters=[ETAG],
    )
    @action(detail=True, methods=["post"], url_path="phase-out-plan/actions")
    def phase_out_actions(self, request, pk=None):
        """Add an action to the plan (the plan needs both agreements again)."""
        lou = self._get_for_write(pk)
        data = self.validated_input(s.PhaseOutActionInputSerializer)
        services.phase_out_action_add(actor=request.user, lou=lou, **data)
        return self._plan_response(self._reload(lou.pk), status_code=status.HTTP_201_CREATED)

    def _plan_action_id(self, lou, action_id) -> int:
        action_id = _sub_id(action_id)
        plan = getattr(lou, "phase_out_plan", None)
        if plan is None or not plan.actions.filter(pk=action_id).exists():
            raise Http404
        return action_id

    @extend_schema(
        request=s.PhaseOutActionInputSerializer,
        responses={200: s.PhaseOutPlanSerializer, **_refusals(NOT_NOW)},
        parameters=[ACTION_ID, ETAG],
    )
    @action(detail=True, methods=["patch"], url_path=r"phase-out-plan/actions/(?P<action_id>[^/.]+)")
    def phase_out_action(self, request, pk=None, action_id=None):
        """Change the fields sent of an action. Recording only `done_on` keeps the agreements; any other change
        needs both agreements again (MOU §39)."""
        lou = self._get_for_write(pk)
        action_id = self._plan_action_id(lou, action_id)
        data = self.validated_input(s.PhaseOutActionInputSerializer, partial=True)
        services.phase_out_action_update(actor=request.user, lou=lou, action_id=action_id, **data)
        return self._plan_response(self._reload(lou.pk))

    @extend_schema(request=None, responses={204: None, **_refusals(NOT_NOW)}, parameters=[ACTION_ID])
    @phase_out_action.mapping.delete
    def phase_out_action_remove(self, request, pk=None, action_id=None):
        """Take an action off the plan (the plan needs both agreements again)."""
        lou = self._get_for_write(pk)
        action_id = self._plan_action_id(lou, action_id)
        self.validated_input(s.EmptySerializer)
        services.phase_out_action_remove(actor=request.user, lou=lou, action_id=action_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        responses={
            200: s.PhaseOutPlanSerializer,
            412: OpenApiResponse(ApiErrorSerializer, description="The plan changed since you read it (its ETag)."),
            **_refusals(_("No plan or no actions yet, or your party already agreed (MOU §39)."), MANAGER_ACT),
        },
        parameters=[
            OpenApiParameter(
                "If-Match",
                str,
                OpenApiParameter.HEADER,
                required=False,
                description='Optional: the plan\'s ETag as you read it, e.g. "2". Changed since: 412.',
            ),
            ETAG,
        ],
    )
    @action(detail=True, methods=["post"], url_path="phase-out-plan/agree")
    def phase_out_plan_agree(self, request, pk=None):
        """The caller's party agrees to the plan as it stands; with both agreements it is agreed (MOU §39)."""
        lou = self._get_for_write(pk)
        plan_version = optional_if_match_version(request)
        self.validated_input(s.EmptySerializer)
        services.phase_out_plan_agree(actor=request.user, lou=lou, plan_version=plan_version)
        return self._plan_response(self._reload(lou.pk))

    @extend_schema(
        request=None,
        responses={200: s.LetterOfUnderstandingDetailSerializer, **_refusals(NOT_NOW, MANAGER_ACT)},
    )
    @action(detail=True, methods=["post"], url_path="start-phase-out")
    def start_phase_out(self, request, pk=None):
        """Start the phase-out: only once both parties agreed the plan (MOU §39)."""
        lou = self._get_for_write(pk)
        self.validated_input(s.EmptySerializer)
        services.lou_start_phase_out(actor=request.user, lou=lou)
        return self._detail_response(lou.pk)

    # Settlement (MOU §40)

    @extend_schema(methods=["GET"], request=None, responses={200: s.ObligationSerializer(many=True)})
    @extend_schema(
        methods=["POST"],
        request=s.ObligationCreateSerializer,
        responses={201: s.ObligationSerializer, **_refusals(NOT_NOW, OWN_AGENCY)},
        description="List an outstanding obligation or liability of the caller's agency (MOU §40); its "
        "confirmation is then needed again.",
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def obligations(self, request, pk=None):
        """Each agency's outstanding obligations and liabilities (MOU §40)."""
        if request.method == "GET":
            return self._output(self._get(pk).obligations.all(), s.ObligationSerializer, many=True)
        lou = self._get_for_write(pk)
        data = self.validated_input(s.ObligationCreateSerializer)
        obligation = services.obligation_save(actor=request.user, lou=lou, **data)
        return self._output(obligation, s.ObligationSerializer, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.ObligationFieldsSerializer,
        responses={200: s.ObligationSerializer, **_refusals(NOT_NOW, OWN_AGENCY)},
        parameters=[OBLIGATION_ID],
    )
    @action(detail=True, methods=["patch"], url_path=r"obligations/(?P<obligation_id>[^/.]+)")
    def obligation(self, request, pk=None, obligation_id=None):
        """Correct an obligation of the caller's agency (e.g. record it settled); its confirmation is needed again."""
        lou = self._get_for_write(pk)
        obligation = lou.obligations.filter(pk=_sub_id(obligation_id)).first()
        if obligation is None:
            raise Http404
        data = self.validated_input(s.ObligationFieldsSerializer, partial=True)
        obligation = services.obligation_save(
            actor=request.user, lou=lou, agency=obligation.agency, obligation_id=obligation.pk, **data
        )
        return self._output(obligation, s.ObligationSerializer)

    @extend_schema(
        request=None,
        responses={200: s.LetterOfUnderstandingDetailSerializer, **_refusals(NOT_NOW, MANAGER_ACT)},
    )
    @action(detail=True, methods=["post"], url_path="confirm-obligations")
    def confirm_obligations(self, request, pk=None):
        """The caller's party confirms its list of outstanding obligations is complete (MOU §40)."""
        lou = self._get_for_write(pk)
        self.validated_input(s.EmptySerializer)
        services.lou_confirm_obligations(actor=request.user, lou=lou)
        return self._detail_response(lou.pk)

    @extend_schema(methods=["GET"], request=None, responses={200: s.HandoverItemSerializer(many=True)})
    @extend_schema(
        methods=["POST"],
        request=s.HandoverItemCreateSerializer,
        responses={201: s.HandoverItemSerializer, **_refusals(NOT_NOW, OWN_AGENCY)},
        description="List a remaining asset, inventory item or resource of the caller's agency, with its value and "
        "the donor's restriction (MOU §40).",
    )
    @action(detail=True, methods=["get", "post"], url_path="handover-items", pagination_class=None, filter_backends=[])
    def handover_items(self, request, pk=None):
        """Remaining assets, inventory and resources, and what became of them (MOU §40)."""
        if request.method == "GET":
            return self._output(self._get(pk).handover_items.all(), s.HandoverItemSerializer, many=True)
        lou = self._get_for_write(pk)
        data = self.validated_input(s.HandoverItemCreateSerializer)
        item = services.handover_item_save(actor=request.user, lou=lou, **data)
        return self._output(item, s.HandoverItemSerializer, status_code=status.HTTP_201_CREATED)

    def _item(self, lou, item_id):
        item = lou.handover_items.filter(pk=_sub_id(item_id)).first()
        if item is None:
            raise Http404
        return item

    @extend_schema(
        request=s.HandoverItemFieldsSerializer,
        responses={200: s.HandoverItemSerializer, **_refusals(NOT_NOW, OWN_AGENCY)},
        parameters=[ITEM_ID],
    )
    @action(detail=True, methods=["patch"], url_path=r"handover-items/(?P<item_id>[^/.]+)")
    def handover_item(self, request, pk=None, item_id=None):
        """Correct a listed asset of the caller's agency (not once handed over or retained)."""
        lou = self._get_for_write(pk)
        item = self._item(lou, item_id)
        data = self.validated_input(s.HandoverItemFieldsSerializer, partial=True)
        item = services.handover_item_save(
            actor=request.user, lou=lou, owner_agency=item.owner_agency, item_id=item.pk, **data
        )
        return self._output(item, s.HandoverItemSerializer)

    @extend_schema(
        request=s.HandoverDecideSerializer,
        responses={
            200: s.HandoverItemSerializer,
            **_refusals(
                _("MOU §40: the donor agreement does not permit a free handover, or already decided."), OWN_AGENCY
            ),
        },
        parameters=[ITEM_ID],
    )
    @action(detail=True, methods=["post"], url_path=r"handover-items/(?P<item_id>[^/.]+)/decide")
    def handover_item_decide(self, request, pk=None, item_id=None):
        """Record that a listed asset was handed over (to the agency with a continuing presence, a national
        institution or an NGO — only where the donor agreement permits it, MOU §40) or retained."""
        lou = self._get_for_write(pk)
        item = self._item(lou, item_id)
        data = self.validated_input(s.HandoverDecideSerializer)
        item = services.handover_item_decide(actor=request.user, item=item, **data)
        return self._output(item, s.HandoverItemSerializer)

    @extend_schema(
        request=None,
        responses={
            200: s.LetterOfUnderstandingDetailSerializer,
            **_refusals(_("MOU §39-§40: plan agreed, obligations confirmed and assets decided first."), MANAGER_ACT),
        },
    )
    @action(detail=True, methods=["post"])
    def conclude(self, request, pk=None):
        """Conclude the letter at the end of the phase-out (MOU §39-§40)."""
        lou = self._get_for_write(pk)
        self.validated_input(s.EmptySerializer)
        services.lou_conclude(actor=request.user, lou=lou)
        return self._detail_response(lou.pk)

    # The document

    @extend_schema(
        parameters=[s.PdfQuerySerializer],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def pdf(self, request, pk=None):
        """The letter as PDF, for signature and the archive: a version of the text in force (default: the current
        one, or the draft as it stands), with its version number and content hash."""
        lou = self._get(pk)
        version = self._query(s.PdfQuerySerializer).get("version")
        if version is not None:
            selectors.lou_version_get(lou=lou, number=version)  # 404 for a version the letter does not have
        content, filename = documents.lou_pdf(lou=lou, version=version)
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
