"""OpenAPI generation: every operation documents the error answers of jointops.api.exception_handler.

Set as REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"], so every app's endpoints get them without repeating
@extend_schema(responses=...) on each action. An explicit response for a status in @extend_schema wins.
"""

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers

from jointops.api.serializers import ApiErrorSerializer

ERROR_DESCRIPTIONS = {
    "400": "Invalid input: each entry of `errors` names a field (URL segment, query parameter or body field).",
    "401": "No credentials, or a token that is malformed, unknown, revoked or expired.",
    "403": "Authenticated, but the role or the client's scopes do not allow this.",
    "404": "No such record, or one the caller may not see (the two look the same).",
    "409": "Conflicts with the current state of a record (e.g. a duplicate or a state that forbids it).",
    "429": "Too many requests from this principal; retry after the Retry-After header's seconds.",
}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class AutoSchema(SpectacularAutoSchema):
    def _error_codes(self) -> list[str]:
        codes = ["400", "401", "403", "429"]
        if "{" in self.path:
            codes.append("404")
        if self.method in WRITE_METHODS:
            codes.append("409")
        return codes

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        _answer_what_the_model_holds(field)
        return super()._map_serializer_field(field, direction, bypass_extensions=bypass_extensions)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction=direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            if code not in responses:
                response = self._get_response_for_code(ApiErrorSerializer, code, direction=direction)
                response["description"] = ERROR_DESCRIPTIONS[code]
                responses[code] = response
        return responses


def _answer_what_the_model_holds(field) -> None:
    """Issue 8 (schemathesis): a read-only field answers what its model field holds. DRF's ModelSerializer drops
    allow_blank from read-only fields (and explicit read-only fields never get allow_null), so the schema promised a
    value where the record holds "" or null (a blank country, relationship or e-mail; no parent office, no linked
    operation): restore both from the model field, so clients can trust the documented shape."""
    if not getattr(field, "read_only", False) or not isinstance(field, serializers.Field):
        return
    parent = getattr(field, "parent", None)
    model = getattr(getattr(parent, "Meta", None), "model", None)
    source = getattr(field, "source", None)
    if model is None or not source or "." in source or source == "*":
        return
    try:
        model_field = model._meta.get_field(source)
    except FieldDoesNotExist:
        return
    if getattr(model_field, "null", False) and not model_field.many_to_many:
        field.allow_null = True
    if getattr(model_field, "blank", False) and isinstance(field, serializers.CharField | serializers.ChoiceField):
        field.allow_blank = True
