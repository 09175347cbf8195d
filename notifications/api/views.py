"""API of the notifications app: pre-departure name lists IOM → UNHCR (Letter of 16 January 2003) and the inbox.

`/api/v1/pre-departure-lists/` — the fourth delivery channel of a list (after the inbox, e-mail and webhooks):
- Reads start from notifications.selectors: a list is visible to its sending IOM office and its receiving UNHCR office,
  the offices above them, both organisations' HQ focal points (read-only) and partner systems holding
  `pre-departure-lists:read` bound to one of the two offices (or an office above one). Hidden and missing lists answer
  404. The list endpoint shows no names; a list's detail, CSV and PDF do — each such read is written to the access log
  with the ids of the people on it, as is the entry answered by an entry's outcome.
- Writes call exactly one service of notifications.services — the code the browser calls: IOM staff (and IOM partner
  systems) of the office build its list now; the receiving UNHCR office acknowledges it, records a voluntariness
  concern on an entry (the IOM case owner hears of it at once) and closes its record once the embarkation is confirmed
  (Letter: UNHCR "reassures itself of voluntariness and closes its records"). The other side answers 403, a list
  already acknowledged 409, a record closed before the embarkation 409.
- Answering a list means reading its names: a partner system acts on a list only with both the read and the write
  scope (with the write scope alone, every list is unknown to it: 404); it may still build, whose answer carries no
  names.

`/api/v1/notifications/` — the caller's own inbox, marking items read, the e-mail preference. Partner systems have no
inbox: they receive lists by webhook and read them here, so the inbox endpoints answer them 403.
"""

from __future__ import annotations

import re

import django_filters
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from jointops import access
from jointops.api.base import ApiViewMixin, ScopedViewSet
from jointops.api.permissions import IsAuthenticatedPrincipal
from jointops.api.serializers import ApiErrorSerializer
from jointops.audit import log_access
from notifications import documents, outbox, selectors, services
from notifications.api import serializers as s
from notifications.choices import Trigger
from notifications.filters import YES_NO, PreDepartureListFilterSet
from notifications.models import Notification, PreDepartureEntry, PreDepartureList

RESOURCE = "pre_departure_list"
_ID_RE = re.compile(r"[0-9]{1,18}")
ENTRY_ID = OpenApiParameter("entry_id", int, OpenApiParameter.PATH, description="Id of the entry on the list.")
UNHCR_SIDE = _("Only the receiving UNHCR office answers a list (Letter); HQ focal points read only.")


def _refusals(conflict: str | None = None, forbidden: str | None = None) -> dict:
    responses = {}
    if conflict:
        responses[409] = OpenApiResponse(ApiErrorSerializer, description=conflict)
    if forbidden:
        responses[403] = OpenApiResponse(ApiErrorSerializer, description=forbidden)
    return responses


def _sub_id(value: str | None) -> int:
    """A record id from the URL; anything else is unknown (404)."""
    if not _ID_RE.fullmatch(value or ""):
        raise Http404
    return int(value)


# --- Filters (the list endpoint; PreDepartureListFilterSet is notifications.filters', shared with the pages) ------


class NotificationFilterSet(django_filters.FilterSet):
    unread = django_filters.ChoiceFilter(
        choices=YES_NO, method="filter_unread", label=_("Unread (true) or read (false)")
    )

    class Meta:
        model = Notification
        fields = ["unread"]

    def filter_unread(self, queryset, name, value):
        return queryset.filter(read_at__isnull=value == "true")


# --- Pre-departure lists --------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        description="Pre-departure lists the caller's offices sent or received (HQ focal points: their "
        "organisation's), newest first, without their entries (no names: read a list's detail for them). Filters: "
        "`office` (either side's code), `acknowledged` (true/false), `built_since` (ISO 8601 date-time)."
    ),
)
class PreDepartureListViewSet(mixins.ListModelMixin, ScopedViewSet):
    """Pre-departure name lists, IOM → UNHCR (Letter of 16 January 2003): for each IOM office, the departures its
    counterpart UNHCR office must know of and every change since the last list. Built daily (and on demand), never
    edited or deleted (405); UNHCR acknowledges a list and records its outcomes per entry."""

    serializer_class = s.PreDepartureListSerializer
    filterset_class = PreDepartureListFilterSet
    access_resource = RESOURCE
    access_actions = {"build": access.ADD}

    def get_queryset(self):
        # The rows carry counts only: the entries (names) are read in the detail, which the access log records.
        return selectors.pre_departure_list_qs_for(principal=self.request.user).prefetch_related(None)

    def perform_content_negotiation(self, request, force=False):
        # The CSV and PDF answer their own media type; their errors fall back to the API's JSON body.
        return super().perform_content_negotiation(request, force=force or self.action in ("csv", "pdf"))

    # Helpers

    def _get(self, pk) -> PreDepartureList:
        return selectors.pre_departure_list_get_for_user(principal=self.request.user, pk=pk)

    def _entry(self, pdl: PreDepartureList, entry_id) -> PreDepartureEntry:
        return selectors.entry_get_for_user(principal=self.request.user, pdl=pdl, pk=_sub_id(entry_id))

    def _log(self, pdl: PreDepartureList, entries, *, action_name: str) -> None:
        """Names were read: the access log records who, which people (ids only) and why."""
        self._log_people(pdl, [entry.beneficiary_id for entry in entries], action_name=action_name)

    def _log_people(self, pdl: PreDepartureList, people: list[int], *, action_name: str) -> None:
        if people:
            log_access(
                actor=self.request.user,
                action=action_name,
                resource="beneficiary",
                object_ids=people,
                purpose=f"pre-departure list {pdl.reference}",
                path=self.request.path,
            )

    def _detail_response(self, pk) -> Response:
        pdl = self._get(pk)
        self._log(pdl, pdl.entries.all(), action_name="view")
        return Response(self.output(pdl, serializer_class=s.PreDepartureListDetailSerializer))

    def _entry_response(self, pdl: PreDepartureList, entry: PreDepartureEntry) -> Response:
        entry = PreDepartureEntry.objects.get(pk=entry.pk)
        self._log(pdl, [entry], action_name="view")
        return Response(self.output(entry, serializer_class=s.PreDepartureEntrySerializer))

    def _get_for_download(self, pk) -> PreDepartureList:
        # The file reads its entries itself (one query of the allow-listed fields): no counts, no prefetch.
        return selectors.pre_departure_list_get_for_download(principal=self.request.user, pk=pk)

    def _file(
        self, pdl: PreDepartureList, export: tuple[bytes, list[int]], content_type: str, extension: str
    ) -> HttpResponse:
        content, people = export
        self._log_people(pdl, people, action_name="export")
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{pdl.reference}.{extension}"'
        return response

    # Reads

    @extend_schema(responses={200: s.PreDepartureListDetailSerializer})
    def retrieve(self, request, pk=None):
        """One list with its entries: for each person only names, the expected departure date, the change, the IOM
        case reference and the UNHCR registration number when known (Letter; data minimisation), whether it reached
        UNHCR late, and UNHCR's outcomes. The read is written to the access log with the people's ids."""
        return self._detail_response(pk)

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="UTF-8 CSV.")})
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def csv(self, request, pk=None):
        """The list as the CSV attachment of its e-mail (UTF-8 with a BOM; formulas neutralised). Written to the
        access log as an export."""
        pdl = self._get_for_download(pk)
        return self._file(pdl, documents.list_csv_export(pdl), "text/csv; charset=utf-8", "csv")

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def pdf(self, request, pk=None):
        """The list as the PDF attachment of its e-mail. Written to the access log as an export."""
        pdl = self._get_for_download(pk)
        return self._file(pdl, documents.list_pdf_export(pdl), "application/pdf", "pdf")

    # Writes

    @extend_schema(
        request=s.PreDepartureListBuildSerializer,
        responses={
            200: s.PreDepartureListSerializer(many=True),
            **_refusals(
                _("The office has no UNHCR counterpart to send its list to."),
                _("Only IOM staff (or an IOM partner system) of the office build its list."),
            ),
        },
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def build(self, request):
        """Build now the list of an IOM office for its counterpart UNHCR office (Letter), as the daily schedule
        would: the lists built, without their entries — an empty array when UNHCR has nothing new to be told. The new
        list reaches UNHCR's inbox, notification addresses and subscribed partner systems as any other."""
        data = self.validated_input(s.PreDepartureListBuildSerializer)
        built = services.pre_departure_lists_build(actor=request.user, trigger=Trigger.API, iom_office=data["office"])
        # The lists this request built, whoever may read them later (a field office's travel on the list of the
        # office above): references and counts only, no names.
        lists = (
            PreDepartureList.objects.filter(pk__in=[pdl.pk for pdl in built])
            .select_related("iom_office", "unhcr_office")
            .annotate(
                entry_count=Count("entries", distinct=True),
                late_count=Count("entries", filter=Q(entries__is_late=True), distinct=True),
            )
            .order_by("pk")
        )
        return Response(s.PreDepartureListSerializer(lists, many=True, context=self.get_serializer_context()).data)

    @extend_schema(
        request=None,
        responses={
            200: s.PreDepartureListDetailSerializer,
            **_refusals(_("The list was already acknowledged."), UNHCR_SIDE),
        },
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """The receiving UNHCR office acknowledges receipt of the list (Letter). Answers the list with its entries."""
        pdl = self._get(pk)
        self.validated_input(s.EmptySerializer)
        services.pre_departure_list_acknowledge(actor=request.user, pdl=pdl)
        return self._detail_response(pdl.pk)

    @extend_schema(
        request=s.EntryConcernSerializer,
        responses={
            200: s.PreDepartureEntrySerializer,
            **_refusals(_("A concern was already recorded on this entry."), UNHCR_SIDE),
        },
        parameters=[ENTRY_ID],
    )
    @action(detail=True, methods=["post"], url_path=r"entries/(?P<entry_id>[^/.]+)/concern")
    def concern(self, request, pk=None, entry_id=None):
        """Record a voluntariness concern on an entry (Letter: UNHCR "reassures itself of voluntariness"); the IOM
        case owner is notified at once (inbox and e-mail). Answers the entry."""
        pdl = self._get(pk)
        entry = self._entry(pdl, entry_id)
        data = self.validated_input(s.EntryConcernSerializer)
        entry = services.entry_record_concern(actor=request.user, entry=entry, concern=data["concern"])
        return self._entry_response(pdl, entry)

    @extend_schema(
        request=None,
        responses={
            200: s.PreDepartureEntrySerializer,
            **_refusals(_("Only an entry confirming the embarkation closes the record, once."), UNHCR_SIDE),
        },
        parameters=[ENTRY_ID],
    )
    @action(detail=True, methods=["post"], url_path=r"entries/(?P<entry_id>[^/.]+)/close-record")
    def close_record(self, request, pk=None, entry_id=None):
        """UNHCR closes its record of the person once the list confirms the embarkation (Letter: "close its
        records"). Answers the entry."""
        pdl = self._get(pk)
        entry = self._entry(pdl, entry_id)
        self.validated_input(s.EmptySerializer)
        entry = services.entry_close_record(actor=request.user, entry=entry)
        return self._entry_response(pdl, entry)


# --- The inbox ------------------------------------------------------------------------------------------


class StaffOnly(IsAuthenticatedPrincipal):
    """Members of staff only: partner systems have no inbox and no e-mail preference."""

    message = _("Partner systems have no inbox: notifications are for members of staff.")

    def has_permission(self, request, view):
        return super().has_permission(request, view) and not getattr(request.user, "is_api_client", False)


@extend_schema_view(
    list=extend_schema(
        description="The caller's own inbox, newest first (`unread=true`: the unread ones only). Partner systems "
        "have no inbox (403)."
    ),
)
class NotificationViewSet(mixins.ListModelMixin, ApiViewMixin, viewsets.GenericViewSet):
    """Each member of staff's notices: pre-departure lists received, voluntariness concerns, early notices of
    repatriation operations (MOU §31), LoU reminders (MOU §39, §45, §47). Only ever the caller's own."""

    permission_classes = [StaffOnly]
    serializer_class = s.NotificationSerializer
    filterset_class = NotificationFilterSet

    def get_queryset(self):
        return selectors.inbox_qs_for(user=self.request.user)

    @extend_schema(request=s.NotificationMarkReadSerializer, responses={200: s.NotificationMarkedSerializer})
    @action(detail=False, methods=["post"], url_path="mark-read", filter_backends=[], pagination_class=None)
    def mark_read(self, request):
        """Mark notifications of your inbox read: `{"ids": [...]}` or `{"all": true}`. Ids of others' notifications
        are ignored."""
        serializer = s.NotificationMarkReadSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        ids = None if serializer.validated_data.get("all") else serializer.validated_data["ids"]
        marked = services.notification_mark_read(user=request.user, ids=ids)
        return Response({"marked": marked, "unread": selectors.unread_count(user=request.user)})

    @extend_schema(methods=["GET"], request=None, responses={200: s.NotificationSettingsSerializer})
    @extend_schema(
        methods=["PUT"], request=s.NotificationSettingsSerializer, responses={200: s.NotificationSettingsSerializer}
    )
    @action(detail=False, methods=["get", "put"], url_path="settings", filter_backends=[], pagination_class=None)
    def email_settings(self, request):
        """How you receive your notices by e-mail: each at once (`instant`), one daily digest (`digest`), or none
        (`none`: the inbox only). A voluntariness concern is e-mailed at once to those who chose the digest."""
        if request.method == "PUT":
            serializer = s.NotificationSettingsSerializer(data=request.data, context=self.get_serializer_context())
            serializer.is_valid(raise_exception=True)
            services.notification_settings_set(
                user=request.user, email_preference=serializer.validated_data["email_preference"]
            )
        return Response({"email_preference": outbox.email_preference(request.user)}, status=status.HTTP_200_OK)
