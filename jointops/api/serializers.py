"""Serializers of the shared records: shape only, no business rules (those live in jointops.services).

Output serializers (`<Model>Serializer`) are read-only and list their fields explicitly (never __all__).
Input serializers (`<Model><Action>Serializer`) hold only what the caller may write: the organisation of a new
office, user or API client is the caller's own, never an input. Offices are referenced by their code.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _
from django_countries.serializer_fields import CountryField
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

from jointops import access, selectors
from jointops.choices import OfficeLevel, Role
from jointops.models import ApiClient, Membership, Office, Organisation, User, code_validator

# --- Errors (documentation of jointops.api.exception_handler's bodies) --------------------------------


class ApiErrorItemSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True, help_text=_("The input at fault (`a.0.b` when nested), or null."))
    code = serializers.CharField(help_text=_("Machine-readable code, e.g. required, invalid, does_not_exist."))
    message = serializers.CharField()


class ApiErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text=_("A sentence for people."))
    code = serializers.CharField(help_text=_("Machine-readable code, e.g. invalid, not_found, permission_denied."))
    errors = ApiErrorItemSerializer(many=True)


# --- Fields -------------------------------------------------------------------------------------------


@extend_schema_field({"type": "string", "example": "IOM-AF-KBL", "pattern": code_validator.regex.pattern})
class OfficeCodeField(serializers.SlugRelatedField):
    """An office named by its code, among the offices the caller may see (a hidden office is unknown)."""

    default_error_messages = {
        "does_not_exist": _("No office has the code “{value}”."),
        "invalid": _("Give an office code, e.g. IOM-AF-KBL."),
    }

    def __init__(self, **kwargs):
        super().__init__(slug_field="code", **kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return selectors.office_qs_for(principal=getattr(request, "user", None))

    def to_internal_value(self, data):
        if not isinstance(data, str) or not code_validator.regex.match(data.strip().upper()) or len(data) > 32:
            self.fail("invalid")
        return super().to_internal_value(data.strip().upper())


class CountryCodeField(serializers.ChoiceField):
    """An ISO 3166-1 alpha-2 code (upper or lower case); the same choices as the models' country fields."""

    def __init__(self, **kwargs):
        super().__init__(choices=Office._meta.get_field("country").choices, **kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(data.upper() if isinstance(data, str) else data)


# --- Organisations and offices -------------------------------------------------------------------------


class OrganisationSerializer(serializers.ModelSerializer):
    country = CountryField(read_only=True, help_text=_("ISO 3166-1 alpha-2 code; blank for international ones."))

    class Meta:
        model = Organisation
        fields = ["id", "code", "name", "kind", "country"]
        read_only_fields = fields


class OfficeSerializer(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True)
    counterpart = serializers.SlugRelatedField(slug_field="code", read_only=True)
    country = CountryField(read_only=True, help_text=_("ISO 3166-1 alpha-2 code; blank for headquarters."))

    class Meta:
        model = Office
        fields = [
            "id",
            "code",
            "name",
            "organisation",
            "level",
            "country",
            "parent",
            "counterpart",
            "is_active",
            "updated_at",
        ]
        read_only_fields = fields


class OfficeCreateSerializer(serializers.Serializer):
    """A new office of the caller's organisation (administrators only)."""

    code = serializers.CharField(max_length=32, help_text=_("Short unique code, e.g. IOM-AF-KBL."))
    name = serializers.CharField(max_length=200)
    level = serializers.ChoiceField(choices=OfficeLevel.choices)
    country = CountryCodeField(required=False, allow_blank=True, default="")
    parent = OfficeCodeField(required=False, allow_null=True, default=None)
    counterpart = OfficeCodeField(
        required=False, allow_null=True, default=None, help_text=_("An office of the other agency (UNHCR ↔ IOM).")
    )


class OfficeUpdateSerializer(serializers.Serializer):
    """The fields an administrator of the office's organisation may change; send only those to change."""

    code = serializers.CharField(max_length=32, required=False)
    name = serializers.CharField(max_length=200, required=False)
    level = serializers.ChoiceField(choices=OfficeLevel.choices, required=False)
    country = CountryCodeField(required=False, allow_blank=True)
    parent = OfficeCodeField(required=False, allow_null=True)
    counterpart = OfficeCodeField(required=False, allow_null=True)
    is_active = serializers.BooleanField(required=False)


# --- Staff --------------------------------------------------------------------------------------------


class MembershipSerializer(serializers.ModelSerializer):
    office = serializers.SlugRelatedField(slug_field="code", read_only=True)
    office_name = serializers.CharField(source="office.name", read_only=True)

    class Meta:
        model = Membership
        fields = ["office", "office_name", "role"]
        read_only_fields = fields


class UserSerializer(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    memberships = MembershipSerializer(many=True, read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "first_name",
            "last_name",
            "email",
            "organisation",
            "is_active",
            "last_login",
            "date_joined",
            "memberships",
        ]
        read_only_fields = fields


class UserCreateSerializer(serializers.Serializer):
    """A new account of the caller's organisation. Without a password, the person sets one by e-mail."""

    username = serializers.CharField(max_length=150)
    email = serializers.EmailField(max_length=254)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    password = serializers.CharField(
        max_length=128,
        required=False,
        allow_blank=True,
        default="",
        write_only=True,
        trim_whitespace=False,
        style={"input_type": "password"},
    )


class MembershipSetSerializer(serializers.Serializer):
    office = OfficeCodeField()
    role = serializers.ChoiceField(choices=Role.choices)


# --- Partner systems ----------------------------------------------------------------------------------


class ApiClientSerializer(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    office = serializers.SlugRelatedField(slug_field="code", read_only=True)
    scopes = serializers.ListField(child=serializers.CharField(), read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    is_usable = serializers.BooleanField(read_only=True, help_text=_("Neither revoked nor expired."))

    class Meta:
        model = ApiClient
        fields = [
            "id",
            "name",
            "organisation",
            "office",
            "scopes",
            "token_prefix",
            "is_usable",
            "expires_at",
            "revoked_at",
            "last_used_at",
            "created_at",
            "created_by",
        ]
        read_only_fields = fields


class ApiClientCreatedSerializer(ApiClientSerializer):
    """The answer to a create, the only one that ever carries the token."""

    token = serializers.SerializerMethodField(
        help_text=_("Shown once, now: store it. Send it as `Authorization: Token <token>`.")
    )

    class Meta(ApiClientSerializer.Meta):
        fields = [*ApiClientSerializer.Meta.fields, "token"]
        read_only_fields = fields

    def get_token(self, obj) -> str:
        return self.context["token"]


class ApiClientCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    office = OfficeCodeField(help_text=_("An office of your organisation; the client sees what this office sees."))
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=access.all_scopes()), allow_empty=False)
    expires_at = serializers.DateTimeField(
        required=False, help_text=_("Defaults to API_TOKEN_DEFAULT_DAYS days from now (365 unless configured).")
    )


# --- The principal ------------------------------------------------------------------------------------


class MeUserSerializer(serializers.ModelSerializer):
    kind = serializers.SerializerMethodField()
    organisation = OrganisationSerializer(read_only=True, allow_null=True)
    memberships = serializers.SerializerMethodField()
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["kind", "id", "username", "first_name", "last_name", "email", "organisation", "memberships", "roles"]
        read_only_fields = fields

    def get_kind(self, obj) -> str:
        return "user"

    @extend_schema_field(MembershipSerializer(many=True))
    def get_memberships(self, obj) -> list[dict]:
        return MembershipSerializer(selectors.membership_qs_for_user(user=obj), many=True).data

    def get_roles(self, obj) -> list[str]:
        return sorted(str(role) for role in access.roles(obj))


class MeApiClientSerializer(serializers.ModelSerializer):
    kind = serializers.SerializerMethodField()
    organisation = OrganisationSerializer(read_only=True)
    office = serializers.SlugRelatedField(slug_field="code", read_only=True)
    scopes = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = ApiClient
        fields = ["kind", "id", "name", "organisation", "office", "scopes", "expires_at"]
        read_only_fields = fields

    def get_kind(self, obj) -> str:
        return "api_client"


class ActiveOfficeCodeField(OfficeCodeField):
    """Any active office, named by its code. Codes are not secret; the service decides whether the caller may act
    there (403), so a partner system without `offices:read` can still name its own office."""

    def get_queryset(self):
        return Office.objects.filter(is_active=True)


class StrictSerializer(serializers.Serializer):
    """An input serializer that refuses fields it does not know (400 naming each one)."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = [str(key) for key in data if key not in self.fields or self.fields[key].read_only]
            if unknown:
                error = ErrorDetail(_("Unknown field: it cannot be set here."), code="unknown_field")
                raise ValidationError({key: [error] for key in unknown})
        return super().to_internal_value(data)
