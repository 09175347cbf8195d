"""API of consultations between the agencies (MOU §22, §25, §28, §29): `/api/v1/consultations/`.

A consultation lives in jointops so that every app can link to it: a return case or a repatriation operation (the
Letters of Understanding join LINK_TYPES when their app lands). Reads start from jointops.selectors (a consultation is
visible to the offices that took part; hidden answers 404), writes go through jointops.services.consultation_record.
A linked record must be one the caller may see, else it is unknown (400 naming `linked_id`). Never changed or
deleted through the API: a consultation is a record of what was said.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from jointops import selectors, services
from jointops.api.base import ScopedViewSet
from jointops.api.concurrency import lookup_action
from jointops.api.serializers import ActiveOfficeCodeField
from jointops.filters import ConsultationFilterSet
from jointops.models import Consultation, ConsultationSubject

MAX_ID = 2**63 - 1  # database ids: a larger number cannot exist


def _selector(path: str) -> Callable[[Any], Any]:
    """A `<module>:<function>` selector taking principal=..., imported when first used (apps link to jointops)."""
    module_name, function = path.split(":")
    return lambda principal: getattr(import_module(module_name), function)(principal=principal)


# type name -> (app label, model name, the selector of the records the caller may see)
LINK_TYPES: dict[str, tuple[str, str, Callable[[Any], Any]]] = {
    "return_case": ("returns", "returncase", _selector("returns.selectors:return_case_qs_for")),
    "repatriation_operation": ("returns", "repatriationoperation", _selector("returns.selectors:operation_qs_for")),
}
LINK_TYPE_CHOICES = [
    ("return_case", _("Return case")),
    ("repatriation_operation", _("Repatriation operation")),
]
_TYPE_BY_MODEL = {(app_label, model): name for name, (app_label, model, _records) in LINK_TYPES.items()}


# --- Serializers --------------------------------------------------------------------------------------


class LinkedRecordSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=LINK_TYPE_CHOICES, read_only=True)
    id = serializers.IntegerField(read_only=True)


class ConsultationSerializer(serializers.ModelSerializer):
    recorded_by_office = serializers.SlugRelatedField(slug_field="code", read_only=True)
    offices = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True, help_text=_("Codes of the offices taking part.")
    )
    linked = serializers.SerializerMethodField(help_text=_("The case or operation it concerns, or null."))

    class Meta:
        model = Consultation
        fields = [
            "id",
            "held_on",
            "recorded_by_office",
            "offices",
            "participants",
            "subject_kind",
            "subject",
            "outcome",
            "linked",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(LinkedRecordSerializer(allow_null=True))
    def get_linked(self, obj: Consultation) -> dict | None:
        if not obj.linked_type_id or not obj.linked_id:
            return None
        name = _TYPE_BY_MODEL.get((obj.linked_type.app_label, obj.linked_type.model))
        return {"type": name, "id": obj.linked_id} if name else None


class ConsultationCreateSerializer(serializers.Serializer):
    """A consultation between offices of both agencies, recorded by an office the caller works for."""

    held_on = serializers.DateField()
    recorded_by_office = ActiveOfficeCodeField(help_text=_("The office recording it, e.g. IOM-DE-BER."))
    offices = serializers.ListField(
        child=ActiveOfficeCodeField(),
        min_length=1,
        max_length=20,
        help_text=_("Codes of the other offices taking part (both UNHCR and IOM take part)."),
    )
    participants = serializers.CharField(max_length=4000, help_text=_("Names and functions, one per line."))
    subject_kind = serializers.ChoiceField(choices=ConsultationSubject.choices)
    subject = serializers.CharField(max_length=200)
    outcome = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    linked_type = serializers.ChoiceField(choices=LINK_TYPE_CHOICES, required=False, allow_null=True, default=None)
    linked_id = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        default=None,
        help_text=_("Id of the case or operation it concerns: one you may see."),
    )

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = [str(key) for key in data if key not in self.fields]
            if unknown:
                error = ErrorDetail(_("Unknown field: it cannot be set here."), code="unknown_field")
                raise ValidationError({key: [error] for key in unknown})
        return super().to_internal_value(data)

    def validate(self, data):
        linked_type, linked_id = data.pop("linked_type"), data.pop("linked_id")
        if linked_type is None and linked_id is None:
            return {**data, "linked": None}
        if linked_type is None:
            raise ValidationError({"linked_type": [_("Say what kind of record the id is.")]})
        if linked_id is None:
            raise ValidationError({"linked_id": [_("Give the id of the linked record.")]})
        records = LINK_TYPES[linked_type][2](self.context["request"].user)
        linked = records.filter(pk=linked_id).first()
        if linked is None:
            message = _("No record of this type you may see has the id “%(id)s”.") % {"id": linked_id}
            raise ValidationError({"linked_id": [ErrorDetail(message, code="does_not_exist")]})
        return {**data, "linked": linked}


# --- Views --------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(description="Consultations in which an office the caller works for took part, newest first."),
)
class ConsultationViewSet(mixins.ListModelMixin, ScopedViewSet):
    """Consultations between UNHCR and IOM (MOU §22, §25, §28, §29), linked to the case or operation they concern."""

    serializer_class = ConsultationSerializer
    filterset_class = ConsultationFilterSet
    access_resource = "consultation"

    def get_queryset(self):
        return selectors.consultation_qs_for(principal=self.request.user)

    def retrieve(self, request, pk=None):
        return Response(self.output(selectors.consultation_get_for_user(principal=request.user, pk=pk)))

    @extend_schema(request=ConsultationCreateSerializer, responses={201: ConsultationSerializer})
    def create(self, request):
        """Record a consultation at an office the caller works for, with offices of both agencies."""
        data = self.validated_input(ConsultationCreateSerializer)
        consultation = services.consultation_record(actor=request.user, **data)
        consultation = selectors.consultation_get_for_user(
            principal=request.user, pk=consultation.pk, action=lookup_action(request.user, "consultation")
        )
        return Response(self.output(consultation), status=status.HTTP_201_CREATED)


router = SimpleRouter()
router.register("consultations", ConsultationViewSet, basename="consultation")
