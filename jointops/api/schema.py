"""OpenAPI generation: every operation documents the error answers of jointops.api.exception_handler.

Set as REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"], so every app's endpoints get them without repeating
@extend_schema(responses=...) on each action. An explicit response for a status in @extend_schema wins.
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

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
