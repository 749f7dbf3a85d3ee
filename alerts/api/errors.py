"""Every API error as JSON ``{"error": "<short text>", "detail": {...}}`` with the right status.

``detail`` is an object: per-field messages for a 400 (``{"priority": ["..."]}``),
``{"message": "..."}`` otherwise. A Django ``ValidationError`` from a model's
``full_clean`` (raised inside a service) becomes a 400 with the model's
per-field messages, so the admin and the API refuse bad input alike.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

_TITLES = {
    400: "Invalid request",
    401: "Authentication required",
    403: "Permission denied",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    429: "Too many requests",
}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The resource is not in a state that allows this."
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "payload_too_large"


def _django_validation_detail(exc: DjangoValidationError) -> dict:
    if hasattr(exc, "error_dict"):
        return {("non_field_errors" if f == "__all__" else f): msgs for f, msgs in exc.message_dict.items()}
    return {"non_field_errors": list(exc.messages)}


def error_body(status_code: int, detail) -> dict:
    if isinstance(detail, dict) and set(detail) == {"detail"}:  # DRF's {"detail": "..."} for non-field errors
        detail = detail["detail"]
    if isinstance(detail, list):
        detail = {"non_field_errors": detail}
    elif not isinstance(detail, dict):
        detail = {"message": str(detail)}
    return {"error": _TITLES.get(status_code, "Error"), "detail": detail}


def api_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_validation_detail(exc))
    elif isinstance(exc, IntegrityError):
        # A concurrent write got there first (a unique hostname, say): the caller may retry.
        exc = Conflict("The change conflicts with existing data; reload and retry.")
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = exception_handler(exc, context)
    if response is None:
        return None  # a real bug: Django's 500 handler logs it
    response.data = error_body(response.status_code, response.data)
    return response


def json_error(status_code: int, message: str, **headers) -> Response:
    response = Response(error_body(status_code, message), status=status_code)
    for name, value in headers.items():
        response[name] = value
    return response


def not_found(request, exception=None):
    """Django's 404 handler: JSON for paths under /api/, the usual page elsewhere (used when DEBUG is off)."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return JsonResponse(error_body(404, "No such endpoint."), status=404)
    return page_not_found(request, exception)
