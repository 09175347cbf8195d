"""API of imports and exports of people.

- `POST /api/v1/beneficiary-imports/` (multipart: `file`, and `office` — an office code; a partner system's own
  office when left out): 201 with the job (done, or pending when large and handed to Celery); 400 with the
  report when the file was checked at once and has errors (nothing written). Needs `beneficiaries:write`.
- `GET /api/v1/beneficiary-imports/` and `/{id}/`: the principal's own jobs (another's answers 404).
- `GET /api/v1/beneficiaries/export/?format=csv|xlsx&<the list's filters>`: the file, only with the fields the
  principal may read, recorded in the access log.

beneficiaries.api.urls includes `router` and `urlpatterns`; jointops.api_urls puts app urlpatterns before the
routers, so "beneficiaries/export/" is matched before the person detail route "beneficiaries/{id}/".
"""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from beneficiaries import exporting, importing, selectors
from beneficiaries.filters import BeneficiaryFilterSet
from beneficiaries.models import ImportJob
from jointops import access
from jointops.api.base import ApiViewMixin, ScopedViewSet
from jointops.api.exception_handler import error_body
from jointops.api.permissions import IsAuthenticatedPrincipal
from jointops.api.schema import AutoSchema
from jointops.api.serializers import ApiErrorSerializer
from jointops.exceptions import ValidationFailed
from jointops.models import Office, code_validator

# --- Serializers (shape only) ------------------------------------------------------------------------------


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text=_("Row of the file (the header is row 1), or null."))
    column = serializers.CharField(allow_blank=True, help_text=_("Column of the template, or empty."))
    message = serializers.CharField()


class ImportDuplicateSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text=_("Row of the file (the header is row 1)."))
    kind = serializers.ChoiceField(
        choices=["file", "database"], help_text=_("Like another row of the file, or like a person already recorded.")
    )
    other_row = serializers.IntegerField(required=False, help_text=_("The other row (kind file)."))
    beneficiary_id = serializers.IntegerField(required=False, help_text=_("The person recorded (kind database)."))
    score = serializers.FloatField(required=False, help_text=_("Likeness from 0 to 1 (kind database)."))
    reasons = serializers.ListField(child=serializers.CharField(), required=False)


class ImportJobListSerializer(serializers.ModelSerializer):
    office = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "office",
            "file_name",
            "status",
            "total_rows",
            "processed_rows",
            "created_count",
            "error_count",
            "duplicate_count",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


class ImportJobSerializer(ImportJobListSerializer):
    errors = ImportErrorSerializer(many=True, read_only=True, help_text=_("At most 10,000; error_count has all."))
    duplicates = ImportDuplicateSerializer(
        many=True, read_only=True, help_text=_("Warnings: they do not stop the import. At most 10,000.")
    )

    class Meta(ImportJobListSerializer.Meta):
        fields = [*ImportJobListSerializer.Meta.fields, "errors", "duplicates"]
        read_only_fields = fields


class ImportJobCreateSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("CSV (UTF-8, comma or semicolon) or XLSX with the template's columns."))
    office = serializers.CharField(
        required=False,
        max_length=32,
        help_text=_(
            "Code of the office the people are registered at (rows may name another in their office column). "
            "Left out: a partner system's own office, or a user's only office."
        ),
    )


# --- Import jobs ---------------------------------------------------------------------------------------


def _office(principal, code: str | None) -> Office:
    """The office named by its code (400 naming "office" when unknown). Whether the principal may register
    people there is the service's decision (403)."""
    if not code:
        if getattr(principal, "is_api_client", False):
            return principal.office
        offices = list(importing.import_offices_for(principal=principal)[:2])
        if len(offices) == 1:
            return offices[0]
        raise ValidationFailed(gettext("Give the code of the office the people are registered at."), field="office")
    code = code.strip().upper()
    office = Office.objects.filter(code=code).first() if code_validator.regex.match(code) else None
    if office is None:
        raise ValidationFailed(gettext("No office has the code “%(code)s”.") % {"code": code[:32]}, field="office")
    return office


class ImportJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Imports of people from CSV or XLSX: every row checked before anything is written, all or nothing."""

    serializer_class = ImportJobSerializer
    access_resource = "beneficiary"
    filterset_class = None
    filter_backends: list = []

    def get_queryset(self):
        return importing.import_job_qs_for(principal=self.request.user)

    def get_serializer_class(self):
        return ImportJobListSerializer if self.action == "list" else ImportJobSerializer

    @extend_schema(
        request={"multipart/form-data": ImportJobCreateSerializer},
        responses={
            201: OpenApiResponse(
                ImportJobSerializer,
                description="Imported (status done), or queued for the background worker (status pending): "
                "poll the job.",
            ),
            400: OpenApiResponse(
                ApiErrorSerializer,
                description="The file was refused (wrong type, too large, unreadable: `errors` names `file`), or "
                "checked at once and found with errors (`code` import_failed): nothing was written, each entry of "
                "`errors` also carries the `row` (the header is row 1) and `column` at fault, and `job` holds the job "
                "with its report (as GET /beneficiary-imports/{id}/).",
            ),
        },
    )
    def create(self, request):
        data = self.validated_input(ImportJobCreateSerializer)
        upload = data["file"]
        importing.check_size(size=upload.size)  # before reading it into memory
        job = importing.import_job_create(
            actor=request.user,
            office=_office(request.user, data.get("office")),
            file_name=upload.name,
            content=upload.read(),
            content_type=getattr(upload, "content_type", "") or "",
        )
        body = ImportJobSerializer(job, context=self.get_serializer_context()).data
        if job.status == ImportJob.Status.FAILED:
            detail = gettext("The file has errors: nothing was imported.")
            errors = [
                {
                    "field": "file",
                    "code": "invalid_row",
                    "message": f"{e['row'] or '-'} {e['column'] or '-'}: {e['message']}",
                    **e,
                }
                for e in job.errors
            ]
            return Response({**error_body(detail, "import_failed", errors), "job": body}, status=400)
        return Response(body, status=status.HTTP_201_CREATED)


# --- Export --------------------------------------------------------------------------------------------


class JsonErrorsNegotiation(DefaultContentNegotiation):
    """`format` here chooses the file (csv, xlsx), not DRF's renderer: answers that DRF renders (errors) are JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


FORMAT_PARAMETER = OpenApiParameter(
    "format", str, enum=["csv", "xlsx"], default="csv", description=_("The file: CSV (UTF-8) or XLSX.")
)


class ExportSchema(AutoSchema):
    """Documents the list's filters although the answer is a file, not a list."""

    def get_filter_backends(self):
        return getattr(self.view, "filter_backends", [])


class BeneficiaryExportView(ApiViewMixin, GenericAPIView):
    """The people the list would give for the same filters, as a file; only the fields the caller may read."""

    schema = ExportSchema()
    permission_classes = [IsAuthenticatedPrincipal]
    content_negotiation_class = JsonErrorsNegotiation
    filterset_class = BeneficiaryFilterSet
    pagination_class = None

    def get_queryset(self):
        return selectors.beneficiary_qs_for(principal=self.request.user)

    @extend_schema(
        operation_id="beneficiaries_export",
        parameters=[FORMAT_PARAMETER],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="UTF-8 CSV with a BOM."),
            (200, exporting.XLSX_CONTENT_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="XLSX workbook."),
        },
    )
    def get(self, request):
        access.require(request.user, exporting.EXPORT, "beneficiary")
        file_format = request.query_params.get("format", "csv")
        if file_format not in ("csv", "xlsx"):
            raise ValidationFailed(gettext("Choose csv or xlsx."), field="format")
        params = request.query_params.copy()
        params.pop("format", None)
        filterset = BeneficiaryFilterSet(params, queryset=self.get_queryset(), request=request)
        if not filterset.is_valid():
            raise serializers.ValidationError(filterset.errors)
        if file_format == "xlsx":
            content = exporting.export_xlsx(principal=request.user, queryset=filterset.qs, path=request.path)
            content_type = exporting.XLSX_CONTENT_TYPE
        else:
            content = exporting.export_csv(principal=request.user, queryset=filterset.qs, path=request.path)
            content_type = exporting.CSV_CONTENT_TYPE
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{exporting.export_file_name(file_format)}"'
        return response


router = DefaultRouter()
router.register("beneficiary-imports", ImportJobViewSet, basename="beneficiary-import")

urlpatterns = [
    path("beneficiaries/export/", BeneficiaryExportView.as_view(), name="beneficiary-export"),
]
