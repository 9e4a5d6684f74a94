"""Every error of the API is JSON with a stable ``code`` (and a ``detail`` for people).

``{"code": "not_found", "detail": "..."}``; validation errors add ``errors``
(``{"serial": [{"code": "required", "message": "..."}]}``); throttling adds ``retry_after``;
the domain errors of the views add what the program needs to show (hints, days lost...).
Unknown paths under ``/api/`` answer the same JSON 404 (``views.NotFoundView``).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback


class ApiError(exceptions.APIException):
    """A domain error: its own status, code, message and extra fields."""

    def __init__(self, *, status_code: int, code: str, detail: str, **extra):
        super().__init__(detail=detail, code=code)
        self.status_code = status_code
        self.code = code
        self.extra = extra


def error_body(exc: exceptions.APIException) -> dict:
    if isinstance(exc, ApiError):
        return {"code": exc.code, "detail": str(exc.detail), **exc.extra}
    if isinstance(exc, exceptions.ValidationError):
        details = exc.get_full_details()
        if not isinstance(details, dict):
            details = {"non_field_errors": details}
        return {
            "code": "invalid",
            "detail": str(_("Some fields are missing or not valid.")),
            "errors": details,
        }
    codes = exc.get_codes()
    body = {
        "code": codes if isinstance(codes, str) else exc.default_code,
        "detail": str(exc.detail),
    }
    if isinstance(exc, exceptions.Throttled):
        body["retry_after"] = exc.wait
    return body


def exception_handler(exc, context):
    """DRF's ``EXCEPTION_HANDLER``: JSON for every error DRF catches (500s stay Django's)."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    headers = {}
    if auth_header := getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = auth_header
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        headers["Retry-After"] = str(int(exc.wait))
    set_rollback()
    return Response(error_body(exc), status=exc.status_code, headers=headers)
