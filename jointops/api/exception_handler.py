"""Consistent error bodies for the API.

Every error answers `{"detail": "...", "code": "...", "errors": [{"field": ..., "code": ..., "message": ...}]}`.
Domain errors raised by services map to their status (400, 403, 409, 412); Django's 404 and validation
errors map to DRF's.
"""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from jointops.exceptions import DomainError


def _flatten(detail, prefix=None):
    """DRF's nested error detail -> a flat list of {field, code, message}."""
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            field = key if key != "non_field_errors" else None
            if prefix and field:
                field = f"{prefix}.{field}"
            elif prefix:
                field = prefix
            out.extend(_flatten(value, field))
        return out
    if isinstance(detail, list):
        out = []
        for index, value in enumerate(detail):
            if isinstance(value, dict | list) and prefix is not None:
                out.extend(_flatten(value, f"{prefix}.{index}"))
            else:
                out.extend(_flatten(value, prefix))
        return out
    return [{"field": prefix, "code": getattr(detail, "code", "invalid"), "message": str(detail)}]


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        body = {"detail": str(exc.message), "code": exc.code, "errors": [exc.as_dict()]}
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        response.data = {
            "detail": errors[0]["message"] if errors else "Invalid input.",
            "code": "invalid",
            "errors": errors,
        }
        response.status_code = status.HTTP_400_BAD_REQUEST
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail if not isinstance(exc.detail, list | dict) else exc.get_full_details()
        response.data = {
            "detail": str(detail),
            "code": exc.get_codes() if isinstance(exc.get_codes(), str) else "error",
            "errors": [],
        }
    return response
