"""What every API view of every app builds on.

- `ApiViewMixin`: after authentication, permission and throttling, refuses NUL bytes, control characters and
  absurdly long values in the URL, the query string and the body with a 400 naming the field (PostgreSQL
  cannot store NUL and would answer a 500).
- `ScopedViewSet`: a GenericViewSet whose permission checks jointops.access.MATRIX for `access_resource`;
  subclasses take their queryset from a selector (scoped by the access module, hidden objects answer 404)
  and their filters from the app's FilterSet. Input and output serializers are separate classes.

Other apps' viewsets subclass ScopedViewSet (or mix ApiViewMixin into an APIView).
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext
from rest_framework import viewsets
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS

from jointops.api.parsers import SafeJSONParser
from jointops.api.permissions import ResourcePermission

MAX_PARAMETER_LENGTH = 1000  # query-string values and URL segments; longer ones are never legitimate here
# C0 control characters except tab, line feed and carriage return (which free text may hold).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _unsafe_reason(value: str, *, max_length: int | None) -> ErrorDetail | None:
    if "\x00" in value:
        return ErrorDetail(gettext("Null characters are not allowed."), code="null_characters_not_allowed")
    if _CONTROL_RE.search(value):
        return ErrorDetail(gettext("Control characters are not allowed."), code="control_characters_not_allowed")
    if max_length is not None and len(value) > max_length:
        message = gettext("Ensure this value has at most %(max)d characters.") % {"max": max_length}
        return ErrorDetail(message, code="max_length")
    return None


def _walk(data: Any, path: str | None, problems: dict[str, list[ErrorDetail]]) -> None:
    if isinstance(data, dict):
        for key, value in data.items():
            field = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and (reason := _unsafe_reason(key, max_length=None)):
                problems.setdefault(field, []).append(reason)
            _walk(value, field, problems)
    elif isinstance(data, list | tuple):
        for index, value in enumerate(data):
            _walk(value, f"{path}.{index}" if path else str(index), problems)
    elif isinstance(data, str) and (reason := _unsafe_reason(data, max_length=None)):
        problems.setdefault(path or "non_field_errors", []).append(reason)


def reject_unsafe_input(request, url_kwargs: dict[str, Any]) -> None:
    """Raise a 400 ValidationError naming each URL segment, query parameter or body field holding bad characters."""
    problems: dict[str, list[ErrorDetail]] = {}
    for name, value in url_kwargs.items():
        if isinstance(value, str) and (reason := _unsafe_reason(value, max_length=MAX_PARAMETER_LENGTH)):
            problems.setdefault("id" if name == "pk" else name, []).append(reason)  # "id" as in the schema
    for name, values in request.query_params.lists():
        if reason := _unsafe_reason(name, max_length=MAX_PARAMETER_LENGTH):
            problems.setdefault(name, []).append(reason)
        for value in values:
            if reason := _unsafe_reason(value, max_length=MAX_PARAMETER_LENGTH):
                problems.setdefault(name, []).append(reason)
    if request.method not in SAFE_METHODS:
        data = request.data
        if hasattr(data, "lists"):  # form data (QueryDict)
            data = {key: values[0] if len(values) == 1 else values for key, values in data.lists()}
        _walk(data, None, problems)
    if problems:
        raise ValidationError({field: list(dict.fromkeys(reasons)) for field, reasons in problems.items()})


class ApiViewMixin:
    parser_classes = [SafeJSONParser, FormParser, MultiPartParser]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttling come first
        reject_unsafe_input(request, kwargs)


class ScopedViewSet(ApiViewMixin, viewsets.GenericViewSet):
    """Base viewset: matrix-checked permission, selector-scoped queryset, separate input/output serializers."""

    permission_classes = [ResourcePermission]
    access_resource: str = ""
    # viewset action -> access action, when it is not "add" (create) or "change" (any other write).
    access_actions: dict[str, str] = {}

    def output(self, instance, *, serializer_class=None, **context) -> dict:
        """Serialize `instance` with the output serializer (or `serializer_class`)."""
        serializer_class = serializer_class or self.serializer_class
        return serializer_class(instance, context={**self.get_serializer_context(), **context}).data

    def validated_input(self, serializer_class, *, partial: bool = False) -> dict:
        """Validate the request body with an input serializer; a 400 names each field at fault."""
        serializer = serializer_class(data=self.request.data, partial=partial, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)
