"""Serializers of the notifications API: shape only (the rules live in notifications.services, each citing the Letter
of 16 January 2003).

Output serializers (`<Model>Serializer`) list their fields explicitly. What a pre-departure list shows of a person is
built from `notifications.models.ENTRY_FIELDS` — the one allow-list of what crosses from IOM to UNHCR — plus the
entry's own bookkeeping (its id, whether it was late, UNHCR's concern and when its record was closed); nothing else of
a person is ever serialized here. Input serializers (`<Model><Action>Serializer`) refuse unknown fields and values of
the wrong JSON type (a number where text is expected is not quietly turned into text).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

from jointops.api.serializers import ActiveOfficeCodeField, StrictSerializer
from notifications.choices import EmailPreference
from notifications.models import ENTRY_FIELDS, Notification, PreDepartureEntry, PreDepartureList

CONCERN_MAX_LENGTH = 4000  # notifications.services.entry_record_concern's limit
MAX_RECORD_ID = 2**63 - 1  # record ids are database ids: a larger number cannot exist
MAX_IDS = 500

# --- Strict input fields ------------------------------------------------------------------------------


class TextInputField(serializers.CharField):
    """Text, and only text: DRF's CharField would store the number 12 as "12"."""

    default_error_messages = {"invalid": _("Give text (a JSON string).")}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """true or false, and nothing that merely looks like one ("yes", 1)."""

    default_error_messages = {"invalid": _("Give true or false.")}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class RecordIdField(serializers.IntegerField):
    """A record id: a whole JSON number from 1 (not a string, a decimal or a boolean)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_RECORD_ID)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


# --- Pre-departure lists (Letter) ---------------------------------------------------------------------

# Letter; data minimisation: the allow-list, then the entry's own bookkeeping. Nothing else of a person.
ENTRY_OUTPUT_FIELDS = ["id", *ENTRY_FIELDS, "late", "concern", "concern_at", "record_closed_at"]


class PreDepartureEntrySerializer(serializers.ModelSerializer):
    """One person and one change on a list: `models.ENTRY_FIELDS` (names, expected departure date, the change, the IOM
    case reference, the UNHCR registration number when known) and UNHCR's outcomes on it."""

    late = serializers.BooleanField(
        source="is_late",
        read_only=True,
        help_text=_("Sent fewer days before departure than the office pair's lead time (Letter: in a timely way)."),
    )

    class Meta:
        model = PreDepartureEntry
        fields = ENTRY_OUTPUT_FIELDS
        read_only_fields = fields


LIST_FIELDS = [
    "id",
    "reference",
    "iom_office",
    "unhcr_office",
    "built_at",
    "trigger",
    "lead_time_days",
    "acknowledged_at",
    "entry_count",
    "late_count",
]


class PreDepartureListSerializer(serializers.ModelSerializer):
    """A list as a row: who sent it to whom, when and how it was built, whether UNHCR acknowledged it, how many
    entries and how many of them late. No names."""

    iom_office = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text=_("The sending IOM office's code.")
    )
    unhcr_office = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text=_("The receiving UNHCR office's code.")
    )
    built_at = serializers.DateTimeField(source="created_at", read_only=True)
    entry_count = serializers.IntegerField(read_only=True)
    late_count = serializers.IntegerField(
        read_only=True, help_text=_("Entries sent later than the lead time before departure.")
    )

    class Meta:
        model = PreDepartureList
        fields = LIST_FIELDS
        read_only_fields = fields


class PreDepartureListDetailSerializer(PreDepartureListSerializer):
    """A list with its entries (each read is written to the access log with the people's ids)."""

    entries = PreDepartureEntrySerializer(many=True, read_only=True)

    class Meta(PreDepartureListSerializer.Meta):
        fields = [*LIST_FIELDS, "entries"]
        read_only_fields = fields


class EmptySerializer(StrictSerializer):
    """An act that takes no input (an empty body or `{}`)."""


class PreDepartureListBuildSerializer(StrictSerializer):
    """Which IOM office's list to build now (Letter)."""

    office = ActiveOfficeCodeField(
        help_text=_(
            "The IOM office whose list to build now, e.g. IOM-AF-KBL; a field office's departures travel on the list "
            "of the office above it with a UNHCR counterpart."
        )
    )


class EntryConcernSerializer(StrictSerializer):
    """UNHCR's voluntariness concern on one entry (Letter)."""

    concern = TextInputField(
        max_length=CONCERN_MAX_LENGTH,
        help_text=_("What gives UNHCR concern about the voluntariness of this return; the IOM case owner hears of it."),
    )


# --- The inbox and e-mail preferences -----------------------------------------------------------------


class NotificationSerializer(serializers.ModelSerializer):
    """An item of the caller's inbox. Its text names records by reference, never a person."""

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "pre_departure_list", "created_at", "read_at"]
        read_only_fields = fields


class NotificationMarkReadSerializer(StrictSerializer):
    """Either `ids` or `all: true`."""

    ids = serializers.ListField(
        child=RecordIdField(),
        required=False,
        allow_empty=False,
        max_length=MAX_IDS,
        help_text=_("Ids of notifications of your inbox to mark read (others are ignored)."),
    )
    all = StrictBooleanField(required=False, help_text=_("true: mark every unread notification read."))

    def validate(self, attrs):
        if attrs.get("all") and "ids" in attrs:
            message = _("Give either ids or all, not both.")
            raise ValidationError({"all": [ErrorDetail(message, code="invalid")]})
        if not attrs.get("all") and "ids" not in attrs:
            message = _("Give the ids of the notifications to mark read, or all: true.")
            raise ValidationError({"ids": [ErrorDetail(message, code="required")]})
        return attrs


class NotificationMarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(read_only=True, help_text=_("How many notifications were marked read now."))
    unread = serializers.IntegerField(read_only=True, help_text=_("How many remain unread."))


class NotificationSettingsSerializer(StrictSerializer):
    """How the caller receives notices by e-mail."""

    email_preference = serializers.ChoiceField(
        choices=EmailPreference.choices,
        help_text=_("An e-mail for each notice, one daily digest, or none (the inbox only)."),
    )
