"""Serializers of people, households and the reference data: shape only (rules live in beneficiaries.services).

Output serializers (`<Model>Serializer`) list their fields explicitly and, for a person, leave out every field the
caller may not read of that record (jointops.access.person_field_filter: HQ focal points get no contact details, a
record shared by the other agency shows only its allow-list). Input serializers (`<Model><Action>Serializer`) hold
only what the caller may write and refuse unknown fields (a typo must not be silently ignored).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django_countries.serializer_fields import CountryField
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

from beneficiaries import selectors
from beneficiaries.choices import CategoryCode, DocumentType, Relationship, Sex, SharingBasis, SpecificNeed
from beneficiaries.models import (
    Beneficiary,
    BeneficiaryCategory,
    BeneficiaryShare,
    CategoryChange,
    Household,
    IdentityDocument,
    Mandate,
)
from jointops import access
from jointops.api.serializers import ActiveOfficeCodeField, CountryCodeField, StrictSerializer

# --- Fields -------------------------------------------------------------------------------------------


@extend_schema_field(serializers.ChoiceField(choices=CategoryCode.choices))
class CategoryCodeField(serializers.SlugRelatedField):
    """A beneficiary category named by its code (MOU §4)."""

    default_error_messages = {
        "does_not_exist": _("No category has the code “{value}”."),
        "invalid": _("Give a category code, e.g. asylum_seeker."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", BeneficiaryCategory.objects.all())
        super().__init__(slug_field="code", **kwargs)


@extend_schema_field({"type": "integer"})
class PersonField(serializers.PrimaryKeyRelatedField):
    """A person named by id, among those the caller may see (or change, for a write-only partner system: the
    view's `lookup_action`). A hidden person is unknown (400 naming the field), never revealed."""

    default_error_messages = {"does_not_exist": _("No person has the id “{pk_value}”.")}

    def get_queryset(self):
        action = self.context.get("lookup_action", access.VIEW)
        return selectors.beneficiary_qs_for(principal=self.context["request"].user, action=action)


class SpecificNeedsField(serializers.ListField):
    """A list of codes from the short fixed list of specific needs (no medical details)."""

    def __init__(self, **kwargs):
        super().__init__(child=serializers.ChoiceField(choices=SpecificNeed.choices), **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, list):
            unknown = [str(need) for need in data if need not in SpecificNeed.values]
            if unknown:
                message = _("Unknown specific need: %(need)s.") % {"need": ", ".join(unknown)[:200]}
                raise ValidationError([ErrorDetail(message, code="invalid_choice")])
        return list(dict.fromkeys(super().to_internal_value(data)))


# --- Reference data (MOU §4-§19) ------------------------------------------------------------------------


class MandateInCategorySerializer(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Mandate
        fields = ["organisation", "role", "services", "paragraph"]
        read_only_fields = fields


class BeneficiaryCategorySerializer(serializers.ModelSerializer):
    mandates = MandateInCategorySerializer(many=True, read_only=True)

    class Meta:
        model = BeneficiaryCategory
        fields = ["id", "code", "name", "description", "mou_paragraphs", "order", "mandates"]
        read_only_fields = fields


class MandateSerializer(serializers.ModelSerializer):
    """One cell of the mandate matrix: an organisation's role for a category, and the paragraph it rests on."""

    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Mandate
        fields = ["id", "category", "organisation", "role", "services", "paragraph"]
        read_only_fields = fields


# --- People: output -----------------------------------------------------------------------------------


class PersonFieldsSerializer(serializers.ModelSerializer):
    """Leaves out of each record the fields the caller may not read (jointops.access.person_field_filter).

    `governed_by` names, for an output key that is not itself a field of the allow-lists, the field that decides it.
    """

    governed_by: dict[str, str] = {}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        allowed = access.person_field_filter(self.context["request"].user, office_id=instance.office_id)
        if allowed is None:
            return data
        return {key: value for key, value in data.items() if self.governed_by.get(key, key) in allowed}


class PersonFieldsSchema(OpenApiSerializerExtension):
    """In the schema, only `id` is always present: the other fields depend on what the caller may read."""

    target_class = PersonFieldsSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if direction == "response":
            schema["required"] = ["id"]
        return schema


BENEFICIARY_FIELDS = [
    "id",
    "office",
    "given_name",
    "family_name",
    "other_names",
    "sex",
    "date_of_birth",
    "date_of_birth_estimated",
    "nationality",
    "country_of_residence",
    "category",
    "of_concern_to_unhcr",
    "unhcr_registration_number",
    "iom_case_number",
    "government_id",
    "phone",
    "email",
    "address",
    "preferred_language",
    "specific_needs",
    "household",
    "relationship_to_head",
    "sharing_basis",
    "consent_date",
    "consent_scope",
    "sharing_basis_note",
    "merged_into",
    "version",
    "created_at",
    "updated_at",
]


class BeneficiarySerializer(PersonFieldsSerializer):
    """A person, as a list row. Fields the caller may not read of this record are left out."""

    office = serializers.SlugRelatedField(slug_field="code", read_only=True, help_text=_("Registering office."))
    category = serializers.SlugRelatedField(slug_field="code", read_only=True, help_text=_("Current category."))
    nationality = CountryField(read_only=True, help_text=_("ISO 3166-1 alpha-2 code, or blank."))
    country_of_residence = CountryField(read_only=True, help_text=_("ISO 3166-1 alpha-2 code, or blank."))
    specific_needs = serializers.ListField(child=serializers.ChoiceField(choices=SpecificNeed.choices), read_only=True)
    version = serializers.IntegerField(read_only=True, help_text=_("Changes at every write; the ETag carries it."))

    class Meta:
        model = Beneficiary
        fields = BENEFICIARY_FIELDS
        read_only_fields = fields


class IdentityDocumentSerializer(serializers.ModelSerializer):
    issuing_country = CountryField(read_only=True)

    class Meta:
        model = IdentityDocument
        fields = ["id", "document_type", "number", "issuing_country", "expiry_date", "created_at"]
        read_only_fields = fields


class CategoryChangeSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = CategoryChange
        fields = ["id", "category", "effective_date", "reason", "recorded_at"]
        read_only_fields = fields


class HouseholdMemberSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Beneficiary
        fields = ["id", "given_name", "family_name", "relationship_to_head", "category"]
        read_only_fields = fields


class HouseholdSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    reference = serializers.CharField(read_only=True)
    head = serializers.IntegerField(read_only=True, allow_null=True, help_text=_("Id of the head of household."))
    members = HouseholdMemberSerializer(many=True, read_only=True)


class BeneficiaryDetailSerializer(BeneficiarySerializer):
    """A person with documents, category history and household (context: `related`, from
    beneficiaries.selectors.beneficiary_detail_related). Fields the caller may not read are left out."""

    governed_by = {"household_summary": "household"}

    documents = serializers.SerializerMethodField()
    category_history = serializers.SerializerMethodField()
    household_summary = serializers.SerializerMethodField()

    class Meta(BeneficiarySerializer.Meta):
        fields = [*BENEFICIARY_FIELDS, "documents", "category_history", "household_summary"]
        read_only_fields = fields

    @extend_schema_field(IdentityDocumentSerializer(many=True))
    def get_documents(self, obj) -> list[dict]:
        return IdentityDocumentSerializer(self.context["related"]["documents"], many=True).data

    @extend_schema_field(CategoryChangeSerializer(many=True))
    def get_category_history(self, obj) -> list[dict]:
        return CategoryChangeSerializer(self.context["related"]["category_changes"], many=True).data

    @extend_schema_field(HouseholdSummarySerializer(allow_null=True))
    def get_household_summary(self, obj) -> dict | None:
        if obj.household is None:
            return None
        summary = {
            "id": obj.household.pk,
            "reference": obj.household.reference,
            "head": obj.household.head_id,
            "members": self.context["related"]["household_members"],
        }
        return HouseholdSummarySerializer(summary).data


class DuplicateCandidateSerializer(PersonFieldsSerializer):
    """A likely duplicate: who, how likely (0 to 1) and why. Fields the caller may not read are left out."""

    office = serializers.SlugRelatedField(slug_field="code", read_only=True)
    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    nationality = CountryField(read_only=True)
    score = serializers.SerializerMethodField()
    reasons = serializers.SerializerMethodField()
    governed_by = {"score": "id", "reasons": "id"}

    class Meta:
        model = Beneficiary
        fields = [
            "id",
            "given_name",
            "family_name",
            "date_of_birth",
            "date_of_birth_estimated",
            "nationality",
            "category",
            "office",
            "score",
            "reasons",
        ]
        read_only_fields = fields

    def get_score(self, obj) -> float:
        return round(self.context["candidates"][obj.pk].score, 3)

    def get_reasons(self, obj) -> list[str]:
        return list(self.context["candidates"][obj.pk].reasons)


class BeneficiaryShareSerializer(serializers.ModelSerializer):
    beneficiary = serializers.PrimaryKeyRelatedField(read_only=True)
    office = serializers.SlugRelatedField(slug_field="code", read_only=True, help_text=_("Shared with."))

    class Meta:
        model = BeneficiaryShare
        fields = ["id", "beneficiary", "office", "basis", "shared_at", "revoked_at"]
        read_only_fields = fields


# --- People: input ------------------------------------------------------------------------------------


class BeneficiaryFieldsSerializer(StrictSerializer):
    """The fields a caller may set on a person (beneficiaries.services.EDITABLE_FIELDS)."""

    given_name = serializers.CharField(max_length=100)
    family_name = serializers.CharField(max_length=100)
    other_names = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, help_text=_("One per line: other spellings, aliases.")
    )
    sex = serializers.ChoiceField(choices=Sex.choices, required=False)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    date_of_birth_estimated = serializers.BooleanField(required=False)
    nationality = CountryCodeField(required=False, allow_blank=True)
    country_of_residence = CountryCodeField(required=False, allow_blank=True)
    of_concern_to_unhcr = serializers.BooleanField(required=False)
    unhcr_registration_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    iom_case_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    government_id = serializers.CharField(max_length=60, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    address = serializers.CharField(max_length=500, required=False, allow_blank=True)
    preferred_language = serializers.CharField(max_length=40, required=False, allow_blank=True)
    specific_needs = SpecificNeedsField(required=False)
    sharing_basis = serializers.ChoiceField(choices=SharingBasis.choices, required=False)
    consent_date = serializers.DateField(required=False, allow_null=True)
    consent_scope = serializers.CharField(max_length=200, required=False, allow_blank=True)
    sharing_basis_note = serializers.CharField(max_length=300, required=False, allow_blank=True)


class BeneficiaryCreateSerializer(BeneficiaryFieldsSerializer):
    """Register a person at an office the caller works for."""

    office = ActiveOfficeCodeField(help_text=_("Registering office, e.g. IOM-AF-KBL."))
    category = CategoryCodeField()
    category_since = serializers.DateField(
        required=False, allow_null=True, help_text=_("Date the current category applies from (default: today).")
    )


class BeneficiaryUpdateSerializer(BeneficiaryFieldsSerializer):
    """PUT replaces every editable field (send them all); PATCH changes only the fields sent."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.partial:
            for field in self.fields.values():
                field.required = True


class CategoryChangeCreateSerializer(StrictSerializer):
    category = CategoryCodeField()
    effective_date = serializers.DateField()
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class IdentityDocumentCreateSerializer(StrictSerializer):
    document_type = serializers.ChoiceField(choices=DocumentType.choices)
    number = serializers.CharField(max_length=60)
    issuing_country = CountryCodeField(required=False, allow_blank=True, default="")
    expiry_date = serializers.DateField(required=False, allow_null=True, default=None)


class BeneficiaryShareCreateSerializer(StrictSerializer):
    office = ActiveOfficeCodeField(help_text=_("An office of the other agency, e.g. UNHCR-AF-KBL."))


class BeneficiaryMergeSerializer(StrictSerializer):
    duplicate = PersonField(help_text=_("Id of the record to merge into this one (it stays, marked merged)."))


class DuplicateCheckSerializer(StrictSerializer):
    """A person about to be registered: likely duplicates are found among the records the caller may see."""

    given_name = serializers.CharField(max_length=100)
    family_name = serializers.CharField(max_length=100)
    date_of_birth = serializers.DateField(required=False, allow_null=True, default=None)
    nationality = CountryCodeField(required=False, allow_blank=True, default="")


# --- Households ---------------------------------------------------------------------------------------


class HouseholdSerializer(serializers.ModelSerializer):
    office = serializers.SlugRelatedField(slug_field="code", read_only=True)
    head = serializers.PrimaryKeyRelatedField(read_only=True, help_text=_("Id of the head of household."))
    members = HouseholdMemberSerializer(many=True, read_only=True)

    class Meta:
        model = Household
        fields = ["id", "reference", "office", "head", "notes", "members", "version", "created_at", "updated_at"]
        read_only_fields = fields


class HouseholdCreateSerializer(StrictSerializer):
    head = PersonField(help_text=_("Id of the head of household; the household belongs to the head's office."))
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class HouseholdAddMemberSerializer(StrictSerializer):
    beneficiary = PersonField()
    relationship = serializers.ChoiceField(
        choices=[(value, label) for value, label in Relationship.choices if value != Relationship.HEAD]
    )


class HouseholdRemoveMemberSerializer(StrictSerializer):
    beneficiary = PersonField()
