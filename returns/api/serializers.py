"""Serializers of return cases, repatriation operations and return agreements: shape only (the rules live in
returns.flow and returns.services).

Output serializers (`<Model>Serializer`) list their fields explicitly. The members of a case show only the fields of
each person the caller may read (jointops.access.person_field_filter). Input serializers (`<Model><Action>Serializer`)
hold only what the caller may write and refuse unknown fields; records are named by id among those the caller may see
(or use), offices and organisations by their code.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.utils.translation import gettext_lazy as _
from django_countries.serializer_fields import CountryField
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

from beneficiaries import selectors as beneficiary_selectors
from beneficiaries.choices import SpecificNeed
from jointops import access
from jointops.api.serializers import ActiveOfficeCodeField, CountryCodeField, StrictSerializer
from jointops.models import Organisation
from returns import flow, selectors
from returns.choices import AgreementKind, ClosingReason, OperationKind, OperationStatus, ReturnKind, Stage
from returns.models import (
    AdditionalMeasure,
    ReintegrationVisit,
    RepatriationOperation,
    ReturnAgreement,
    ReturnCase,
)

MAX_ID = 2**63 - 1  # database ids: a larger number cannot exist

# --- Fields -------------------------------------------------------------------------------------------


@extend_schema_field({"type": "integer"})
class RecordIdField(serializers.PrimaryKeyRelatedField):
    """A record named by its id, among `records(principal)`. A hidden record is unknown (400 naming the field)."""

    default_error_messages = {
        "does_not_exist": _("No record has the id “{pk_value}”."),
        "incorrect_type": _("Give the id as a whole number."),
    }

    def records(self, principal):
        raise NotImplementedError

    def get_queryset(self):
        request = self.context.get("request")
        return self.records(getattr(request, "user", None))

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if isinstance(data, str) and not data.isdigit():
            self.fail("incorrect_type", data_type="str")
        if not 1 <= int(data) <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(int(data))


class PersonIdField(RecordIdField):
    """A person the caller may put on a case: a record of the offices the caller works for (a visible record of
    another office, or a hidden one, is unknown here)."""

    default_error_messages = {"does_not_exist": _("No person you may add to a case has the id “{pk_value}”.")}

    def records(self, principal):
        return beneficiary_selectors.beneficiary_qs_for(principal=principal, action=access.CHANGE)


class OperationIdField(RecordIdField):
    default_error_messages = {"does_not_exist": _("No repatriation operation has the id “{pk_value}”.")}

    def records(self, principal):
        return selectors.operation_qs_for(principal=principal)


class AgreementIdField(RecordIdField):
    default_error_messages = {"does_not_exist": _("No return agreement has the id “{pk_value}”.")}

    def records(self, principal):
        return selectors.agreement_qs_for(principal=principal)


class MeasureIdField(RecordIdField):
    """An additional measure; the service checks it is one of the case's lead office."""

    default_error_messages = {"does_not_exist": _("No additional measure has the id “{pk_value}”.")}

    def records(self, principal):
        return AdditionalMeasure.objects.filter(is_active=True)


@extend_schema_field({"type": "string", "example": "UNHCR"})
class OrganisationCodeField(serializers.SlugRelatedField):
    """An organisation named by its code (UNHCR, IOM, or a government's code)."""

    default_error_messages = {
        "does_not_exist": _("No organisation has the code “{value}”."),
        "invalid": _("Give an organisation code, e.g. UNHCR."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Organisation.objects.all())
        super().__init__(slug_field="code", **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or len(data) > 32:
            self.fail("invalid")
        return super().to_internal_value(data.strip().upper())


def _country_codes(countries) -> list[str]:
    return [country.code for country in countries]


# --- Return cases: output -----------------------------------------------------------------------------


# Speed (issue 7, bench/README.md): a page of 50 cases holds ~150 members, and DRF's generic loop — each field's
# source resolved, then converted, one field at a time, some 2,000 times a page — with the ModelSerializer's fields
# built anew at every request cost ~11 ms of a ~30 ms list request. The rows of cases and members are therefore built
# by hand (the `to_representation` methods below), from the cases of returns.selectors.return_case_rows_qs_for and
# the member rows of returns.selectors.with_member_rows. The declared fields still define the API (names, types,
# schema) and the values: strings, numbers and booleans pass through as DRF's CharField, ChoiceField, IntegerField and
# BooleanField leave them; dates, times, countries and lists go through the same DRF fields as the declarations (the
# converters here; countries once per code); None stays None. tests/returns/test_api_serialization.py compares the
# hand-built rows with DRF's own output of the declared fields.
_date = serializers.DateField().to_representation
_datetime = serializers.DateTimeField().to_representation
_country = CountryField().to_representation
_needs = serializers.ListField(child=serializers.ChoiceField(choices=SpecificNeed.choices)).to_representation


def _shown(convert, value):
    """`value` as DRF's Serializer.to_representation shows it through a field converting with `convert`."""
    return None if value is None else convert(value)


class ReturnCaseMemberSerializer(serializers.Serializer):
    """A person on the case. Fields the caller may not read of that person's record are left out."""

    # It shows a row of returns.selectors.with_member_rows, cut by jointops.access.person_field_filter. (The docstring
    # above is the API schema's description.)

    governed_by = {"person": "id", "is_principal": "id"}
    # The columns of the person shown (returns.selectors.with_member_rows reads these).
    person_fields = (
        "given_name",
        "family_name",
        "sex",
        "date_of_birth",
        "nationality",
        "of_concern_to_unhcr",
        "unhcr_registration_number",
        "iom_case_number",
        "preferred_language",
        "specific_needs",
        "phone",
    )

    person = serializers.IntegerField(read_only=True, help_text=_("Id of the person."))
    is_principal = serializers.BooleanField(read_only=True, help_text=_("The principal applicant."))
    given_name = serializers.CharField(read_only=True)
    family_name = serializers.CharField(read_only=True)
    sex = serializers.CharField(read_only=True)
    date_of_birth = serializers.DateField(read_only=True, allow_null=True)
    nationality = CountryField(read_only=True)
    of_concern_to_unhcr = serializers.BooleanField(read_only=True)
    unhcr_registration_number = serializers.CharField(read_only=True)
    iom_case_number = serializers.CharField(read_only=True)
    preferred_language = serializers.CharField(read_only=True)
    specific_needs = serializers.ListField(child=serializers.ChoiceField(choices=SpecificNeed.choices), read_only=True)
    phone = serializers.CharField(read_only=True)

    def to_representation(self, instance: dict[str, Any]) -> dict[str, Any]:
        """Built by hand for speed, the declared fields in order (see above), then cut to the readable fields."""
        row = instance
        data = {
            "person": row["person"],
            "is_principal": row["is_principal"],
            "given_name": row["given_name"],
            "family_name": row["family_name"],
            "sex": row["sex"],
            "date_of_birth": _shown(_date, row["date_of_birth"]),
            "nationality": self.country(row["nationality"]),
            "of_concern_to_unhcr": row["of_concern_to_unhcr"],
            "unhcr_registration_number": row["unhcr_registration_number"],
            "iom_case_number": row["iom_case_number"],
            "preferred_language": row["preferred_language"],
            "specific_needs": _shown(_needs, row["specific_needs"]),
            "phone": row["phone"],
        }
        allowed = self.readable_fields_of(row["office"])
        if allowed is None:
            return data
        return {key: value for key, value in data.items() if self.governed_by.get(key, key) in allowed}

    def country(self, value) -> str | None:
        """A country as the declared CountryField shows it, converted once per code for the whole response: a page
        holds a handful of codes, and each conversion looks the code up in the translated list of countries."""
        if value is None:
            return None
        if value not in self._countries:
            self._countries[value] = _country(value)
        return self._countries[value]

    @cached_property
    def _countries(self) -> dict[Any, str]:
        return {}

    def readable_fields_of(self, office_id: int) -> frozenset[str] | None:
        """jointops.access.person_field_filter for a record of `office_id`, asked once per office for the whole
        response: its answer depends only on the principal and the record's office, both fixed while one response is
        serialized (the answers are kept in the serializer's context, made anew for every request)."""
        cache = self.context.setdefault("person_field_filters", {})
        if office_id not in cache:
            cache[office_id] = access.person_field_filter(self.context["request"].user, office_id=office_id)
        return cache[office_id]


class ReturnCaseMemberSchema(OpenApiSerializerExtension):
    """In the schema, only the person's id and the principal flag are always present."""

    target_class = ReturnCaseMemberSerializer

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if direction == "response":
            schema["required"] = ["person", "is_principal"]
        return schema


CASE_FIELDS = [
    "id",
    "reference",
    "kind",
    "stage",
    "lead_office",
    "country_of_departure",
    "country_of_return",
    "place_of_return",
    "operation",
    "agreement",
    "expected_departure_date",
    "travel_details",
    "embarkation_point",
    "embarked_at",
    "arrived_at",
    "fit_to_travel",
    "final_decision_date",
    "possibilities_to_stay_exhausted",
    "no_conflict_with_humanitarian_concerns",
    "best_interests_considered",
    "bilateral_matter_recognised",
    "emergency_justification",
    "closing_reason",
    "members",
    "version",
    "created_at",
    "updated_at",
]


class ReturnCaseSerializer(serializers.ModelSerializer):
    """A return case as a list row, with its members."""

    lead_office = serializers.SlugRelatedField(slug_field="code", read_only=True)
    country_of_departure = CountryField(read_only=True)
    country_of_return = CountryField(read_only=True)
    operation = serializers.PrimaryKeyRelatedField(read_only=True, help_text=_("Id of the repatriation operation."))
    agreement = serializers.PrimaryKeyRelatedField(read_only=True, help_text=_("Id of the return agreement."))
    members = ReturnCaseMemberSerializer(many=True, read_only=True, source="member_rows")
    version = serializers.IntegerField(read_only=True, help_text=_("Changes at every write; the ETag carries it."))

    class Meta:
        model = ReturnCase
        fields = CASE_FIELDS
        read_only_fields = fields

    def to_representation(self, instance: ReturnCase) -> dict[str, Any]:
        """Built by hand for speed (see ReturnCaseMemberSerializer), CASE_FIELDS in order, from a case of
        returns.selectors.return_case_rows_qs_for with its `member_rows`."""
        case = instance
        return {
            "id": case.pk,
            "reference": case.reference,
            "kind": case.kind,
            "stage": case.stage,
            "lead_office": case.lead_office_code,
            "country_of_departure": self._members.country(case.country_of_departure),
            "country_of_return": self._members.country(case.country_of_return),
            "place_of_return": case.place_of_return,
            "operation": case.operation_id,
            "agreement": case.agreement_id,
            "expected_departure_date": _shown(_date, case.expected_departure_date),
            "travel_details": case.travel_details,
            "embarkation_point": case.embarkation_point,
            "embarked_at": _shown(_datetime, case.embarked_at),
            "arrived_at": _shown(_datetime, case.arrived_at),
            "fit_to_travel": case.fit_to_travel,
            "final_decision_date": _shown(_date, case.final_decision_date),
            "possibilities_to_stay_exhausted": case.possibilities_to_stay_exhausted,
            "no_conflict_with_humanitarian_concerns": case.no_conflict_with_humanitarian_concerns,
            "best_interests_considered": case.best_interests_considered,
            "bilateral_matter_recognised": case.bilateral_matter_recognised,
            "emergency_justification": case.emergency_justification,
            "closing_reason": case.closing_reason,
            "members": [self._members.to_representation(row) for row in case.member_rows],
            "version": case.version,
            "created_at": _shown(_datetime, case.created_at),
            "updated_at": _shown(_datetime, case.updated_at),
        }

    @cached_property
    def _members(self) -> ReturnCaseMemberSerializer:
        """One for every case of the page (with the countries it converted; the field filters it asks are kept in the
        shared context)."""
        return ReturnCaseMemberSerializer(context=self.context)


class MoveSerializer(serializers.Serializer):
    """A move the caller may make now. Its guards are checked when it is made (409 or 400 with the reason)."""

    name = serializers.CharField(read_only=True)
    label = serializers.CharField(read_only=True)
    needs_reason = serializers.BooleanField(read_only=True)
    inputs = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text=_("The inputs the move takes besides the reason, e.g. expected_departure_date."),
    )
    target = serializers.ChoiceField(
        choices=Stage.choices, read_only=True, allow_null=True, help_text=_("The stage it leads to (null: unchanged).")
    )


class CaseTransitionSerializer(serializers.Serializer):
    """One move of the case's timeline: which, from and to which stage, why, when, by whom."""

    def get_fields(self):
        return {
            "move": serializers.CharField(source="transition", read_only=True),
            "from": serializers.ChoiceField(source="from_stage", choices=Stage.choices, read_only=True),
            "to": serializers.ChoiceField(source="to_stage", choices=Stage.choices, read_only=True),
            "reason": serializers.CharField(read_only=True),
            "details": serializers.DictField(read_only=True),
            "at": serializers.DateTimeField(read_only=True),
            "by": serializers.SerializerMethodField(
                method_name="get_by", help_text=_("User name or partner system; null for the system.")
            ),
        }

    def get_by(self, obj: dict[str, Any]) -> str | None:
        return obj["by"]  # a row of returns.selectors.return_case_timeline_rows


class CaseMeasureStateSerializer(serializers.Serializer):
    """An additional measure of the lead office for people of concern to UNHCR, and whether it was done."""

    measure = serializers.IntegerField(read_only=True)
    label = serializers.CharField(read_only=True)
    done_on = serializers.DateField(read_only=True, allow_null=True)
    note = serializers.CharField(read_only=True)


class ReintegrationVisitSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReintegrationVisit
        fields = ["id", "visited_on", "outcome"]
        read_only_fields = fields


class ReturnCaseDetailSerializer(ReturnCaseSerializer):
    """A return case with the moves the caller may make now, its timeline, measures and visits (context `related`
    from the view)."""

    allowed_moves = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()
    unhcr_must_be_informed = serializers.SerializerMethodField(
        help_text=_("Letter: embarkation needs the pre-departure list delivered to UNHCR, or an emergency reason.")
    )
    additional_measures = serializers.SerializerMethodField()
    visits = serializers.SerializerMethodField()

    class Meta(ReturnCaseSerializer.Meta):
        fields = [*CASE_FIELDS, "allowed_moves", "timeline", "unhcr_must_be_informed", "additional_measures", "visits"]
        read_only_fields = fields

    def to_representation(self, instance: ReturnCase) -> dict[str, Any]:
        """The case's row (ReturnCaseSerializer), then the fields below, in order."""
        data = super().to_representation(instance)
        data["allowed_moves"] = self.get_allowed_moves(instance)
        data["timeline"] = self.get_timeline(instance)
        data["unhcr_must_be_informed"] = self.get_unhcr_must_be_informed(instance)
        data["additional_measures"] = self.get_additional_measures(instance)
        data["visits"] = self.get_visits(instance)
        return data

    @extend_schema_field(MoveSerializer(many=True))
    def get_allowed_moves(self, obj) -> list[dict]:
        return MoveSerializer(self.context["related"]["moves"], many=True).data

    @extend_schema_field(CaseTransitionSerializer(many=True))
    def get_timeline(self, obj) -> list[dict]:
        return CaseTransitionSerializer(self.context["related"]["timeline"], many=True).data

    def get_unhcr_must_be_informed(self, obj) -> bool:
        return self.context["related"]["unhcr_must_be_informed"]

    @extend_schema_field(CaseMeasureStateSerializer(many=True))
    def get_additional_measures(self, obj) -> list[dict]:
        return CaseMeasureStateSerializer(self.context["related"]["measures"], many=True).data

    @extend_schema_field(ReintegrationVisitSerializer(many=True))
    def get_visits(self, obj) -> list[dict]:
        return ReintegrationVisitSerializer(self.context["related"]["visits"], many=True).data


# --- Return cases: input ------------------------------------------------------------------------------


class ReturnCaseFieldsSerializer(StrictSerializer):
    """The details of a case a caller may set (returns.services.CASE_FIELDS); never its stage: moves do that."""

    country_of_departure = CountryCodeField()
    country_of_return = CountryCodeField()
    place_of_return = serializers.CharField(max_length=200, required=False, allow_blank=True)
    operation = OperationIdField(
        required=False, allow_null=True, help_text=_("Voluntary repatriation only (MOU §31): id of the operation.")
    )
    agreement = AgreementIdField(
        required=False, allow_null=True, help_text=_("Returns under an agreement only: id of the agreement.")
    )
    travel_details = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, help_text=_("Carrier, route, escort. No medical details.")
    )
    embarkation_point = serializers.CharField(max_length=200, required=False, allow_blank=True)
    fit_to_travel = serializers.BooleanField(
        required=False, allow_null=True, help_text=_("Yes or no only: no medical details are kept.")
    )
    final_decision_date = serializers.DateField(
        required=False, allow_null=True, help_text=_("MOU §29: date of the final asylum decision.")
    )
    possibilities_to_stay_exhausted = serializers.BooleanField(
        required=False, help_text=_("MOU §29: all possibilities to be allowed to stay are exhausted.")
    )
    no_conflict_with_humanitarian_concerns = serializers.BooleanField(required=False, help_text=_("MOU §12 (1)."))
    best_interests_considered = serializers.BooleanField(required=False, help_text=_("MOU §12 (2)."))
    bilateral_matter_recognised = serializers.BooleanField(required=False, help_text=_("MOU §12 (3)."))


class ReturnCaseCreateSerializer(ReturnCaseFieldsSerializer):
    """Open a case at an office the caller works for, for a principal applicant and household members."""

    kind = serializers.ChoiceField(choices=ReturnKind.choices)
    lead_office = ActiveOfficeCodeField(help_text=_("Lead office, e.g. IOM-DE-BER."))
    principal = PersonIdField(help_text=_("Id of the principal applicant."))
    members = serializers.ListField(
        child=PersonIdField(),
        required=False,
        default=list,
        max_length=50,
        help_text=_("Ids of the household members going with the principal applicant."),
    )


class ReturnCaseUpdateSerializer(ReturnCaseFieldsSerializer):
    """PUT replaces every detail (send them all); PATCH changes only the fields sent."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.partial:
            for field in self.fields.values():
                field.required = True


MOVE_INPUTS = ("expected_departure_date", "emergency_justification", "closing_reason")


class ReturnCaseTransitionSerializer(StrictSerializer):
    """A move of the state machine (returns.flow.MOVES); the detail lists those the caller may make now."""

    transition = serializers.ChoiceField(choices=[(move.name, move.label) for move in flow.MOVES.values()])
    reason = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="", help_text=_("Why (required for some moves).")
    )
    expected_departure_date = serializers.DateField(required=False, help_text=_("schedule/reschedule_departure."))
    emergency_justification = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        help_text=_("confirm_embarkation before UNHCR received the pre-departure list (flagged to HQ focal points)."),
    )
    closing_reason = serializers.ChoiceField(choices=ClosingReason.choices, required=False, help_text=_("close."))

    def validate(self, data):
        move = flow.MOVES[data["transition"]]
        extra = [name for name in MOVE_INPUTS if data.get(name) not in (None, "") and name not in move.inputs]
        if extra:
            message = _("The move “%(move)s” does not take this input.") % {"move": move.name}
            raise ValidationError({name: [ErrorDetail(message, code="unexpected_input")] for name in extra})
        return data


class ReturnCaseAddMemberSerializer(StrictSerializer):
    person = PersonIdField(help_text=_("Id of the person to add (before embarkation only)."))


class CaseMeasureCreateSerializer(StrictSerializer):
    measure = MeasureIdField(help_text=_("Id of one of the lead office's additional measures."))
    done_on = serializers.DateField()
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ReintegrationVisitCreateSerializer(StrictSerializer):
    visited_on = serializers.DateField()
    outcome = serializers.CharField(max_length=2000)


# --- Repatriation operations (MOU §31) ----------------------------------------------------------------

OPERATION_FIELDS = [
    "id",
    "office",
    "title",
    "kind",
    "status",
    "country_of_origin",
    "host_countries",
    "areas_of_return",
    "expected_number",
    "planning_started_on",
    "expected_start",
    "expected_end",
    "notes",
    "version",
    "created_at",
    "updated_at",
]


class RepatriationOperationSerializer(serializers.ModelSerializer):
    office = serializers.SlugRelatedField(slug_field="code", read_only=True, help_text=_("The UNHCR office."))
    country_of_origin = CountryField(read_only=True, help_text=_("Country of return."))
    host_countries = serializers.SerializerMethodField()
    version = serializers.IntegerField(read_only=True, help_text=_("Changes at every write; the ETag carries it."))

    class Meta:
        model = RepatriationOperation
        fields = OPERATION_FIELDS
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField(min_length=2, max_length=2)))
    def get_host_countries(self, obj) -> list[str]:
        return _country_codes(obj.host_countries)


class RepatriationOperationFieldsSerializer(StrictSerializer):
    title = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=OperationKind.choices)
    status = serializers.ChoiceField(choices=OperationStatus.choices, required=False)
    country_of_origin = CountryCodeField(help_text=_("Country of return (ISO 3166-1 alpha-2)."))
    host_countries = serializers.ListField(child=CountryCodeField(), required=False, max_length=50)
    areas_of_return = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    expected_number = serializers.IntegerField(min_value=0, max_value=2_147_483_647, required=False, allow_null=True)
    planning_started_on = serializers.DateField(required=False, allow_null=True)
    expected_start = serializers.DateField(required=False, allow_null=True)
    expected_end = serializers.DateField(required=False, allow_null=True)
    notes = serializers.CharField(max_length=4000, required=False, allow_blank=True)


class RepatriationOperationCreateSerializer(RepatriationOperationFieldsSerializer):
    office = ActiveOfficeCodeField(help_text=_("The UNHCR office recording it (MOU §31), e.g. UNHCR-AF-KBL."))


class RepatriationOperationUpdateSerializer(RepatriationOperationFieldsSerializer):
    """PUT replaces every field (send them all); PATCH changes only the fields sent."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.partial:
            for field in self.fields.values():
                field.required = True


# --- Return agreements (Letter) -----------------------------------------------------------------------

AGREEMENT_FIELDS = [
    "id",
    "office",
    "kind",
    "title",
    "country_of_origin",
    "host_country",
    "parties",
    "valid_from",
    "valid_until",
    "review_date",
    "notes",
    "version",
    "created_at",
    "updated_at",
]


class ReturnAgreementSerializer(serializers.ModelSerializer):
    office = serializers.SlugRelatedField(slug_field="code", read_only=True, help_text=_("The recording office."))
    country_of_origin = CountryField(read_only=True)
    host_country = CountryField(read_only=True)
    parties = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True, help_text=_("Codes of the parties' organisations.")
    )
    version = serializers.IntegerField(read_only=True, help_text=_("Changes at every write; the ETag carries it."))

    class Meta:
        model = ReturnAgreement
        fields = AGREEMENT_FIELDS
        read_only_fields = fields


class ReturnAgreementFieldsSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=AgreementKind.choices)
    title = serializers.CharField(max_length=200)
    country_of_origin = CountryCodeField()
    host_country = CountryCodeField()
    parties = serializers.ListField(
        child=OrganisationCodeField(),
        min_length=1,
        max_length=10,
        help_text=_("Codes of the parties: the country of origin, the host country, UNHCR and IOM."),
    )
    valid_from = serializers.DateField()
    valid_until = serializers.DateField(required=False, allow_null=True)
    review_date = serializers.DateField(
        required=False, allow_null=True, help_text=_("Letter: the parties intend to review this form of cooperation.")
    )
    notes = serializers.CharField(max_length=4000, required=False, allow_blank=True)


class ReturnAgreementCreateSerializer(ReturnAgreementFieldsSerializer):
    office = ActiveOfficeCodeField(help_text=_("The recording office, e.g. IOM-DE-BER."))


class ReturnAgreementUpdateSerializer(ReturnAgreementFieldsSerializer):
    """PUT replaces every field (send them all); PATCH changes only the fields sent."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.partial:
            for field in self.fields.values():
                field.required = True
