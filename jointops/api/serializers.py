"""Output and input serializers of the shared records. Fields are listed explicitly, never __all__."""

from rest_framework import serializers

from jointops.models import Office, Organisation


class OrganisationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "code", "name", "kind", "country"]
        read_only_fields = fields


class OfficeSerializer(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True)
    counterpart = serializers.SlugRelatedField(slug_field="code", read_only=True)

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
