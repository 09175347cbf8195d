"""Consistent error bodies for the API.

Every error answers `{"detail": "...", "code": "...", "errors": [{"field": ..., "code": ..., "message": ...}]}`:

- DRF validation errors and Django ValidationError -> 400, one entry per field message;
- domain errors raised by services -> their status (400, 403, 409, 412) with the field at fault;
- a database uniqueness race (IntegrityError) -> 409; a value out of range for the database -> 400;
- 401, 403, 404 (hidden and missing look the same), 405, 415, 429 -> DRF's status, `errors` empty.
"""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from jointops.exceptions import DomainError


class ConflictError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state of a record (for example a duplicate).")
    default_code = "conflict"


def _flatten(detail, prefix=None) -> list[dict]:
    """DRF's nested error detail -> a flat list of {field, code, message}; nested fields as `a.0.b`."""
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            field = None if key in ("non_field_errors", "__all__") else str(key)
            if prefix is not None:
                field = f"{prefix}.{field}" if field else prefix
            out.extend(_flatten(value, field))
        return out
    if isinstance(detail, list):
        out = []
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                out.extend(_flatten(value, f"{prefix}.{index}" if prefix is not None else str(index)))
            else:
                out.extend(_flatten(value, prefix))
        return out
    return [{"field": prefix, "code": getattr(detail, "code", None) or "invalid", "message": str(detail)}]


def _as_api_exception(exc):
    """Map Django's and the database's exceptions onto DRF's, so one code path shapes every answer."""
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, IntegrityError):
        return ConflictError()
    if isinstance(exc, DataError | OverflowError):
        return exceptions.ValidationError({"non_field_errors": [gettext("A value is out of range or too long.")]})
    return exc


def error_body(detail: str, code: str, errors: list[dict] | None = None) -> dict:
    return {"detail": detail, "code": code, "errors": errors or []}


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        set_rollback()
        return Response(error_body(str(exc.message), exc.code, [exc.as_dict()]), status=exc.status_code)
    exc = _as_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        detail = errors[0]["message"] if errors else gettext("Invalid input.")
        response.data = error_body(detail, "invalid", errors)
        response.status_code = status.HTTP_400_BAD_REQUEST
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        detail = exc.detail if isinstance(exc.detail, str) else gettext("The request failed.")
        response.data = error_body(str(detail), codes if isinstance(codes, str) else "error")
    return response


@csrf_exempt
def not_found(request, *args, **kwargs) -> JsonResponse:
    """Unknown paths under /api/v1/ answer the API's 404 body, not the HTML page.

    csrf_exempt (issue 8, found by schemathesis): it reads and writes nothing, and without it a POST/PATCH/DELETE of
    a partner system (token, no CSRF cookie) to an unknown path answered Django's HTML CSRF 403 page instead."""
    return JsonResponse(error_body(gettext("Not found."), "not_found"), status=404)
