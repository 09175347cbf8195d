"""Serializers of Letters of Understanding: shape only (the rules live in letters_of_understanding.lifecycle and
services, each citing its paragraph).

Output serializers (`<Model>Serializer`) list their fields explicitly; the detail of a letter carries the whole text,
its parties, dates, signatures, versions, amendments, reviews, evaluations, phase-out plan, obligations, assets and
the acts the caller may perform now (context `related` from the view). Input serializers (`<Model><Action>Serializer`)
hold only what the caller may write and refuse unknown fields; offices are named by their code, beneficiary
categories by theirs, dates as YYYY-MM-DD, amounts as decimals with a three-letter ISO 4217 currency.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

from beneficiaries.api.serializers import CategoryCodeField
from jointops.api.serializers import ActiveOfficeCodeField, CountryCodeField, StrictSerializer
from jointops.exceptions import ValidationFailed
from letters_of_understanding import content as text
from letters_of_understanding.choices import (
    ActivityKind,
    Agency,
    EvaluationKind,
    HandoverStatus,
    RecipientKind,
    ReviewOutcome,
)
from letters_of_understanding.models import (
    Activity,
    Amendment,
    Evaluation,
    FundingArrangement,
    HandoverItem,
    LetterOfUnderstanding,
    LouEvent,
    LouVersion,
    Obligation,
    PhaseOutAction,
    PhaseOutPlan,
    Review,
    Signature,
    StaffSecondment,
)

SHORT, LONG = 4000, 20000  # the models' SHORT_TEXT and LONG_TEXT limits
MAX_VERSION = 2_147_483_647
_CURRENCY_RE = re.compile(r"[A-Z]{3}")


def _codes(countries) -> list[str]:
    return sorted(str(country.code) for country in countries)


# --- Fields -------------------------------------------------------------------------------------------


@extend_schema_field({"type": "string", "pattern": "^[A-Z]{3}$", "example": "USD"})
class CurrencyField(serializers.CharField):
    """A three-letter ISO 4217 code (upper or lower case), or blank when no amount is given."""

    default_error_messages = {"currency": _("Use the three-letter ISO 4217 code, e.g. USD.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("max_length", 3)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data).upper()
        if value and not _CURRENCY_RE.fullmatch(value):
            self.fail("currency")
        return value


def _amount(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True, **kwargs
    )


def _currency_with_amount(serializer: serializers.Serializer, data: dict, amount_field: str = "amount") -> dict:
    """An amount needs its currency (the models' CheckConstraint), named on `currency`. A PATCH that sends an amount
    without a currency keeps the record's currency (the service checks the pair)."""
    if data.get(amount_field) is None or (serializer.partial and "currency" not in data):
        return data
    if not data.get("currency"):
        raise ValidationError({"currency": [ErrorDetail(_("Give the currency of the amount."), code="required")]})
    return data


# --- The text as one value (letters_of_understanding.content) -----------------------------------------


class ContentActivitySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ActivityKind.choices)
    agency = serializers.ChoiceField(choices=Agency.choices)
    description = serializers.CharField(max_length=SHORT)
    indicators = serializers.CharField(max_length=SHORT, required=False, allow_blank=True)


class ContentFundingSerializer(serializers.Serializer):
    agency = serializers.ChoiceField(choices=Agency.choices)
    source = serializers.CharField(max_length=200)
    amount = serializers.CharField(required=False, allow_null=True, help_text=_('A decimal, e.g. "100000.00".'))
    currency = CurrencyField()
    joint_appeal = serializers.BooleanField(required=False)


class ContentSecondmentSerializer(serializers.Serializer):
    from_agency = serializers.ChoiceField(choices=Agency.choices)
    position = serializers.CharField(max_length=200)
    number = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    start_on = serializers.DateField(required=False, allow_null=True)
    end_on = serializers.DateField(required=False, allow_null=True)


class LouContentSerializer(serializers.Serializer):
    """The text of a letter as one value: what is signed, hashed, versioned, amended and compared (MOU §5, §36-§38).
    The parties (the two offices) are not part of it."""

    title = serializers.CharField(max_length=200)
    operational_situation = serializers.CharField(max_length=SHORT)
    countries = serializers.ListField(child=serializers.CharField(), required=False, help_text=_("ISO 3166 codes."))
    region = serializers.CharField(max_length=200, required=False, allow_blank=True)
    other_parties = serializers.CharField(max_length=SHORT, required=False, allow_blank=True)
    categories = serializers.ListField(
        child=serializers.CharField(), required=False, help_text=_("Beneficiary category codes (MOU §4).")
    )
    start_date = serializers.DateField()
    end_date = serializers.DateField(required=False, allow_null=True)
    institutional_framework = serializers.CharField(max_length=LONG, required=False, allow_blank=True)
    activities = ContentActivitySerializer(many=True, required=False)
    linkages = serializers.CharField(max_length=LONG, required=False, allow_blank=True)
    funding = ContentFundingSerializer(many=True, required=False)
    secondments = ContentSecondmentSerializer(many=True, required=False)
    monitoring_procedures = serializers.CharField(max_length=LONG, required=False, allow_blank=True)
    evaluation_arrangements = serializers.CharField(max_length=LONG, required=False, allow_blank=True)


@extend_schema_field(LouContentSerializer)
class ContentField(serializers.DictField):
    """A whole text, checked by letters_of_understanding.content.validate_content: the first wrong field is named
    under `content`, e.g. `content.activities[1].kind`."""

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        try:
            return text.validate_content(data)
        except ValidationFailed as exc:
            field = exc.field if exc.field and exc.field != "content" else None
            detail = ErrorDetail(str(exc.message), code=exc.code)
            raise ValidationError({field: [detail]} if field else [detail]) from None


class ComparisonRowSerializer(serializers.Serializer):
    """One field of two texts side by side, in the order of MOU §5."""

    field = serializers.CharField(read_only=True)
    label = serializers.CharField(read_only=True)
    left = serializers.ListField(child=serializers.CharField(), read_only=True)
    right = serializers.ListField(child=serializers.CharField(), read_only=True)
    changed = serializers.BooleanField(read_only=True)


# --- Output: the parts of a letter ----------------------------------------------------------------------


class ActivitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Activity
        fields = ["id", "kind", "agency", "description", "indicators", "position"]
        read_only_fields = fields


class FundingArrangementSerializer(serializers.ModelSerializer):
    class Meta:
        model = FundingArrangement
        fields = ["id", "agency", "source", "amount", "currency", "joint_appeal", "position"]
        read_only_fields = fields


class StaffSecondmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = StaffSecondment
        fields = ["id", "from_agency", "position", "number", "start_on", "end_on", "position_order"]
        read_only_fields = fields


class LouPartySerializer(serializers.Serializer):
    agency = serializers.ChoiceField(choices=Agency.choices, read_only=True)
    office = serializers.CharField(read_only=True, help_text=_("Office code, e.g. IOM-AF-KBL."))
    office_name = serializers.CharField(read_only=True)


class SignatureSerializer(serializers.ModelSerializer):
    office = serializers.SlugRelatedField(slug_field="code", read_only=True)
    recorded_by = serializers.SlugRelatedField(source="signed_by", slug_field="username", read_only=True)
    content_hash = serializers.CharField(read_only=True, help_text=_("SHA-256 of the text exactly as signed."))

    class Meta:
        model = Signature
        fields = [
            "id",
            "agency",
            "office",
            "signatory_name",
            "signatory_title",
            "signed_on",
            "content_hash",
            "recorded_by",
            "voided_at",
            "void_reason",
            "created_at",
        ]
        read_only_fields = fields


class LouVersionSummarySerializer(serializers.ModelSerializer):
    amendment = serializers.PrimaryKeyRelatedField(
        read_only=True, help_text=_("Id of the amendment that made it (null for version 1).")
    )

    class Meta:
        model = LouVersion
        fields = ["number", "content_hash", "effective_from", "amendment", "created_at"]
        read_only_fields = fields


class LouVersionSerializer(LouVersionSummarySerializer):
    """One version of the text in force, kept for ever (MOU §46)."""

    content = serializers.SerializerMethodField()

    class Meta(LouVersionSummarySerializer.Meta):
        fields = [*LouVersionSummarySerializer.Meta.fields, "content"]
        read_only_fields = fields

    @extend_schema_field(LouContentSerializer)
    def get_content(self, obj: LouVersion) -> dict:
        return obj.content


class LouVersionComparisonSerializer(serializers.Serializer):
    left = LouVersionSummarySerializer(read_only=True)
    right = LouVersionSummarySerializer(read_only=True)
    rows = ComparisonRowSerializer(many=True, read_only=True)


def _who(user, client) -> str | None:
    if user is not None:
        return user.username
    if client is not None:
        return client.name
    return None


class AmendmentSerializer(serializers.ModelSerializer):
    """An amendment proposed by one party; the other approves or rejects it (MOU §46)."""

    proposed_by = serializers.SerializerMethodField(help_text=_("User name or partner system."))
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Amendment
        fields = [
            "id",
            "number",
            "status",
            "base_text_version",
            "proposed_by_agency",
            "proposed_by",
            "proposed_at",
            "rationale",
            "effective_from",
            "decided_by_agency",
            "decided_by",
            "decided_at",
            "decision_note",
        ]
        read_only_fields = fields

    def get_proposed_by(self, obj: Amendment) -> str | None:
        return _who(obj.proposed_by, obj.proposed_by_client if obj.proposed_by_client_id else None)


class AmendmentDetailSerializer(AmendmentSerializer):
    """An amendment with the proposed text and, side by side, the text it amends (context `comparison`)."""

    content = serializers.SerializerMethodField()
    comparison = serializers.SerializerMethodField()

    class Meta(AmendmentSerializer.Meta):
        fields = [*AmendmentSerializer.Meta.fields, "content", "comparison"]
        read_only_fields = fields

    @extend_schema_field(LouContentSerializer)
    def get_content(self, obj: Amendment) -> dict:
        return obj.content

    @extend_schema_field(ComparisonRowSerializer(many=True))
    def get_comparison(self, obj: Amendment) -> list[dict]:
        return ComparisonRowSerializer(self.context["comparison"], many=True).data


class ReviewSerializer(serializers.ModelSerializer):
    class Meta:
        model = Review
        fields = ["id", "held_on", "outcome", "participants", "summary", "next_review_due", "created_at"]
        read_only_fields = fields


class EvaluationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Evaluation
        fields = [
            "id",
            "kind",
            "title",
            "carried_out_on",
            "carried_out_by",
            "findings",
            "corrective_measures",
            "created_at",
        ]
        read_only_fields = fields


class PhaseOutActionSerializer(serializers.ModelSerializer):
    class Meta:
        model = PhaseOutAction
        fields = ["id", "description", "owner_agency", "owner", "due_on", "done_on"]
        read_only_fields = fields


class PhaseOutPlanSerializer(serializers.ModelSerializer):
    """MOU §39: a plan agreed by both parties; any change to it needs both agreements again."""

    actions = PhaseOutActionSerializer(many=True, read_only=True)
    version = serializers.IntegerField(read_only=True, help_text=_("Changes at every edit; the plan's ETag."))

    class Meta:
        model = PhaseOutPlan
        fields = ["summary", "status", "unhcr_agreed_on", "iom_agreed_on", "version", "actions", "updated_at"]
        read_only_fields = fields


class ObligationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Obligation
        fields = ["id", "agency", "description", "amount", "currency", "due_on", "settled_on", "updated_at"]
        read_only_fields = fields


class HandoverItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = HandoverItem
        fields = [
            "id",
            "owner_agency",
            "description",
            "quantity",
            "value",
            "currency",
            "donor",
            "donor_restriction",
            "donor_permits_handover",
            "status",
            "recipient_kind",
            "recipient_name",
            "handed_over_on",
            "updated_at",
        ]
        read_only_fields = fields


class AllowedActionSerializer(serializers.Serializer):
    """An act of the lifecycle the caller could perform in the letter's status, and whether a rule blocks it now."""

    name = serializers.CharField(read_only=True, help_text=_("e.g. sign, approve_amendment, serve_notice."))
    label = serializers.CharField(read_only=True)
    allowed = serializers.BooleanField(read_only=True)
    reason = serializers.CharField(read_only=True, allow_null=True, help_text=_("Why it is blocked now, or null."))


class LouEventSerializer(serializers.ModelSerializer):
    by = serializers.SerializerMethodField(help_text=_("User name or partner system; null for the system."))

    class Meta:
        model = LouEvent
        fields = ["kind", "agency", "by", "at", "note"]
        read_only_fields = fields

    def get_by(self, obj: LouEvent) -> str | None:
        return _who(obj.user if obj.user_id else None, obj.api_client if obj.api_client_id else None)


# --- Output: the letter -----------------------------------------------------------------------------------

LOU_FIELDS = [
    "id",
    "reference",
    "title",
    "status",
    "text_version",
    "unhcr_office",
    "iom_office",
    "countries",
    "region",
    "categories",
    "start_date",
    "end_date",
    "entered_into_force_on",
    "review_due_on",
    "termination_effective_on",
    "version",
    "created_at",
    "updated_at",
]


class LetterOfUnderstandingSerializer(serializers.ModelSerializer):
    """A letter as a list row."""

    unhcr_office = serializers.SlugRelatedField(slug_field="code", read_only=True)
    iom_office = serializers.SlugRelatedField(slug_field="code", read_only=True)
    countries = serializers.SerializerMethodField()
    categories = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True, help_text=_("Beneficiary categories covered (MOU §4).")
    )
    text_version = serializers.IntegerField(
        read_only=True, help_text=_("The version of the text in force: 0 while drafting (MOU §46).")
    )
    review_due_on = serializers.DateField(read_only=True, help_text=_("MOU §47: reviewed at least every 12 months."))
    version = serializers.IntegerField(read_only=True, help_text=_("Changes at every write; the ETag carries it."))

    class Meta:
        model = LetterOfUnderstanding
        fields = LOU_FIELDS
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField(min_length=2, max_length=2)))
    def get_countries(self, obj) -> list[str]:
        return _codes(obj.countries)


DETAIL_FIELDS = [
    *LOU_FIELDS,
    "parties",
    "other_parties",
    "operational_situation",
    "institutional_framework",
    "activities",
    "linkages",
    "funding",
    "secondments",
    "monitoring_procedures",
    "evaluation_arrangements",
    "content_hash",
    "termination_notice_served_on",
    "termination_notice_by",
    "termination_reason",
    "resources_flagged_on",
    "resources_flagged_by",
    "resources_flag_note",
    "phase_out_started_on",
    "unhcr_obligations_confirmed_on",
    "iom_obligations_confirmed_on",
    "ended_on",
    "signatures",
    "versions",
    "amendments",
    "reviews",
    "evaluations",
    "phase_out_plan",
    "obligations",
    "handover_items",
    "allowed_actions",
    "timeline",
]


class LetterOfUnderstandingDetailSerializer(LetterOfUnderstandingSerializer):
    """A letter with its whole text and everything attached to it, and the acts the caller may perform now."""

    parties = serializers.SerializerMethodField()
    activities = ActivitySerializer(many=True, read_only=True)
    funding = FundingArrangementSerializer(many=True, read_only=True)
    secondments = StaffSecondmentSerializer(many=True, read_only=True)
    content_hash = serializers.SerializerMethodField(
        help_text=_("SHA-256 of the text as it stands now (compare with the signatures' and versions' hashes).")
    )
    signatures = SignatureSerializer(many=True, read_only=True)
    versions = LouVersionSummarySerializer(many=True, read_only=True)
    amendments = AmendmentSerializer(many=True, read_only=True)
    reviews = ReviewSerializer(many=True, read_only=True)
    evaluations = EvaluationSerializer(many=True, read_only=True)
    phase_out_plan = serializers.SerializerMethodField()
    obligations = ObligationSerializer(many=True, read_only=True)
    handover_items = HandoverItemSerializer(many=True, read_only=True)
    allowed_actions = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()

    class Meta(LetterOfUnderstandingSerializer.Meta):
        fields = DETAIL_FIELDS
        read_only_fields = fields

    @extend_schema_field(LouPartySerializer(many=True))
    def get_parties(self, obj: LetterOfUnderstanding) -> list[dict]:
        return [
            {
                "agency": agency.value,
                "office": obj.party_office(agency).code,
                "office_name": obj.party_office(agency).name,
            }
            for agency in Agency
        ]

    def get_content_hash(self, obj) -> str:
        return self.context["related"]["content_hash"]

    @extend_schema_field(PhaseOutPlanSerializer(allow_null=True))
    def get_phase_out_plan(self, obj: LetterOfUnderstanding) -> dict | None:
        plan = getattr(obj, "phase_out_plan", None)
        return PhaseOutPlanSerializer(plan).data if plan is not None else None

    @extend_schema_field(AllowedActionSerializer(many=True))
    def get_allowed_actions(self, obj) -> list[dict]:
        return AllowedActionSerializer(self.context["related"]["allowed_actions"], many=True).data

    @extend_schema_field(LouEventSerializer(many=True))
    def get_timeline(self, obj) -> list[dict]:
        return LouEventSerializer(self.context["related"]["timeline"], many=True).data


# --- Input: the draft -----------------------------------------------------------------------------------


class LouFieldsSerializer(StrictSerializer):
    """The draft's own fields (letters_of_understanding.services.DRAFT_FIELDS) and the categories it covers."""

    title = serializers.CharField(max_length=200)
    operational_situation = serializers.CharField(max_length=SHORT, help_text=_("MOU §5."))
    countries = serializers.ListField(
        child=CountryCodeField(), required=False, max_length=50, help_text=_("ISO 3166-1 alpha-2 codes.")
    )
    region = serializers.CharField(max_length=200, required=False, allow_blank=True)
    other_parties = serializers.CharField(
        max_length=SHORT, required=False, allow_blank=True, help_text=_("e.g. a government ministry.")
    )
    categories = serializers.ListField(
        child=CategoryCodeField(), required=False, max_length=20, help_text=_("Beneficiary category codes (MOU §4).")
    )
    start_date = serializers.DateField()
    end_date = serializers.DateField(required=False, allow_null=True, help_text=_("MOU §39: the agreed end."))
    institutional_framework = serializers.CharField(max_length=LONG, required=False, allow_blank=True)
    linkages = serializers.CharField(max_length=LONG, required=False, allow_blank=True)
    monitoring_procedures = serializers.CharField(
        max_length=LONG, required=False, allow_blank=True, help_text=_("MOU §38.")
    )
    evaluation_arrangements = serializers.CharField(
        max_length=LONG, required=False, allow_blank=True, help_text=_("MOU §38.")
    )

    def validate(self, data):
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            raise ValidationError({"end_date": [_("The end date cannot be before the start date.")]})
        return data


class LouCreateSerializer(LouFieldsSerializer):
    """A new draft between a UNHCR and an IOM office; the caller works at one of the two (MOU §5)."""

    unhcr_office = ActiveOfficeCodeField(help_text=_("The UNHCR party, e.g. UNHCR-AF-KBL."))
    iom_office = ActiveOfficeCodeField(help_text=_("The IOM party, e.g. IOM-AF-KBL."))


class LouUpdateSerializer(LouFieldsSerializer):
    """PUT replaces every field of the draft (send them all); PATCH changes only the fields sent. The parties and
    the rows (activities, funding, secondments) have their own endpoints."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.partial:
            for field in self.fields.values():
                field.required = True


class ActivityInputSerializer(StrictSerializer):
    """An agreed activity of one agency (MOU §5), typed by the MOU's section IV."""

    kind = serializers.ChoiceField(choices=ActivityKind.choices)
    agency = serializers.ChoiceField(choices=Agency.choices, help_text=_("The responsible agency."))
    description = serializers.CharField(max_length=SHORT)
    indicators = serializers.CharField(max_length=SHORT, required=False, allow_blank=True)


class FundingInputSerializer(StrictSerializer):
    """MOU §36: each agency mobilises its own resources; joint appeals are possible."""

    agency = serializers.ChoiceField(choices=Agency.choices)
    source = serializers.CharField(max_length=200, help_text=_("Source or donor."))
    amount = _amount()
    currency = CurrencyField()
    joint_appeal = serializers.BooleanField(required=False)

    def validate(self, data):
        return _currency_with_amount(self, data)


class SecondmentInputSerializer(StrictSerializer):
    """MOU §37: training and secondment of staff."""

    from_agency = serializers.ChoiceField(choices=Agency.choices)
    position = serializers.CharField(max_length=200)
    number = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    start_on = serializers.DateField(required=False, allow_null=True)
    end_on = serializers.DateField(required=False, allow_null=True)

    def validate(self, data):
        start, end = data.get("start_on"), data.get("end_on")
        if start and end and end < start:
            raise ValidationError({"end_on": [_("The end of the secondment cannot be before its start.")]})
        return data


# --- Input: acts of the lifecycle -------------------------------------------------------------------------


class EmptySerializer(StrictSerializer):
    """An act that takes no input (an empty body or `{}`)."""


class LouSignSerializer(StrictSerializer):
    signatory_name = serializers.CharField(max_length=200, help_text=_("Who signs for the party."))
    signatory_title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    signed_on = serializers.DateField(required=False, allow_null=True, help_text=_("Default: today; never later."))


class ReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=SHORT)


class AmendmentProposeSerializer(StrictSerializer):
    """The whole proposed text (MOU §46): it takes effect only once the other party approves it."""

    content = ContentField(help_text=_("The whole proposed text, in the shape of a version's `content`."))
    rationale = serializers.CharField(max_length=SHORT, help_text=_("What changes and why."))
    effective_from = serializers.DateField(required=False, allow_null=True, default=None)


class AmendmentApproveSerializer(StrictSerializer):
    note = serializers.CharField(max_length=SHORT, required=False, allow_blank=True, default="")


class AmendmentRejectSerializer(StrictSerializer):
    note = serializers.CharField(max_length=SHORT, help_text=_("Why the party does not consent."))


class TerminationNoticeSerializer(StrictSerializer):
    """MOU §45: either party terminates on 90 days' written notice."""

    reason = serializers.CharField(max_length=SHORT)
    served_on = serializers.DateField(required=False, allow_null=True, help_text=_("Default: today; never later."))
    effective_on = serializers.DateField(
        required=False, allow_null=True, help_text=_("At least 90 days after the notice (default: exactly 90).")
    )


class ReviewCreateSerializer(StrictSerializer):
    """MOU §47: a review at least every 12 months."""

    held_on = serializers.DateField()
    outcome = serializers.ChoiceField(choices=ReviewOutcome.choices)
    summary = serializers.CharField(max_length=LONG)
    participants = serializers.CharField(max_length=SHORT, required=False, allow_blank=True, default="")
    next_review_due = serializers.DateField(
        required=False, allow_null=True, default=None, help_text=_("At most 12 months later (default: 12 months).")
    )


class EvaluationCreateSerializer(StrictSerializer):
    """MOU §38: monitoring and evaluation of the joint projects."""

    kind = serializers.ChoiceField(choices=EvaluationKind.choices)
    title = serializers.CharField(max_length=200)
    carried_out_on = serializers.DateField()
    carried_out_by = serializers.CharField(max_length=200, required=False, allow_blank=True)
    findings = serializers.CharField(max_length=LONG)
    corrective_measures = serializers.CharField(max_length=SHORT, required=False, allow_blank=True)


class ResourcesFlagSerializer(StrictSerializer):
    """MOU §39: the party expects resources to be insufficient; a phase-out plan is then required."""

    note = serializers.CharField(max_length=SHORT, help_text=_("Why resources will be insufficient."))


class PhaseOutPlanSaveSerializer(StrictSerializer):
    summary = serializers.CharField(max_length=LONG)


class PhaseOutActionInputSerializer(StrictSerializer):
    """An action of the phase-out plan with its owner and date (MOU §39)."""

    description = serializers.CharField(max_length=SHORT)
    owner_agency = serializers.ChoiceField(choices=Agency.choices)
    owner = serializers.CharField(max_length=200, help_text=_("The unit or post responsible."))
    due_on = serializers.DateField()
    done_on = serializers.DateField(required=False, allow_null=True)


class ObligationFieldsSerializer(StrictSerializer):
    description = serializers.CharField(max_length=SHORT)
    amount = _amount()
    currency = CurrencyField()
    due_on = serializers.DateField(required=False, allow_null=True)
    settled_on = serializers.DateField(required=False, allow_null=True)

    def validate(self, data):
        return _currency_with_amount(self, data)


class ObligationCreateSerializer(ObligationFieldsSerializer):
    """MOU §40: an outstanding obligation or liability of the caller's own agency."""

    agency = serializers.ChoiceField(choices=Agency.choices)


class HandoverItemFieldsSerializer(StrictSerializer):
    description = serializers.CharField(max_length=300)
    quantity = serializers.IntegerField(min_value=1, max_value=2_147_483_647, required=False)
    value = _amount()
    currency = CurrencyField()
    donor = serializers.CharField(max_length=200, required=False, allow_blank=True)
    donor_restriction = serializers.CharField(max_length=SHORT, required=False, allow_blank=True)
    donor_permits_handover = serializers.BooleanField(
        required=False, help_text=_("MOU §40: a free handover only where the donor agreement permits it.")
    )

    def validate(self, data):
        return _currency_with_amount(self, data, "value")


class HandoverItemCreateSerializer(HandoverItemFieldsSerializer):
    """MOU §40: a remaining asset, inventory item or resource of the caller's own agency."""

    owner_agency = serializers.ChoiceField(choices=Agency.choices)


DECISIONS = [(HandoverStatus.HANDED_OVER.value, HandoverStatus.HANDED_OVER.label)] + [
    (HandoverStatus.RETAINED.value, HandoverStatus.RETAINED.label)
]


class HandoverDecideSerializer(StrictSerializer):
    """Handed over (only where the donor agreement permits it, MOU §40) or retained by the owning agency."""

    decision = serializers.ChoiceField(choices=DECISIONS)
    recipient_kind = serializers.ChoiceField(choices=RecipientKind.choices, required=False, allow_blank=True)
    recipient_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    handed_over_on = serializers.DateField(required=False, allow_null=True)


# --- Query parameters ---------------------------------------------------------------------------------------


class VersionCompareQuerySerializer(StrictSerializer):
    left = serializers.IntegerField(min_value=1, max_value=MAX_VERSION, help_text=_("Version number, e.g. 1."))
    right = serializers.IntegerField(min_value=1, max_value=MAX_VERSION, help_text=_("Version number, e.g. 2."))


class PdfQuerySerializer(StrictSerializer):
    version = serializers.IntegerField(
        min_value=1,
        max_value=MAX_VERSION,
        required=False,
        help_text=_("A version of the text in force (default: the current text)."),
    )
