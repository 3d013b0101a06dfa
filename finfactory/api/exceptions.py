"""Every error of the HTTP API as RFC 9457 problem+json with a stable `code`.

Installed as DRF's EXCEPTION_HANDLER; `handler404`/`handler500` cover paths outside DRF views.
"""

import structlog
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response

from finfactory.api.problems import PROBLEM_CONTENT_TYPE, problem_body
from finfactory.errors import FieldError, PlatformError

logger = structlog.get_logger(__name__)

_DRF_CODES = {
    drf.ParseError: (400, "parse_error", "Malformed request body"),
    drf.NotAuthenticated: (401, "not_authenticated", "Authentication required"),
    drf.AuthenticationFailed: (401, "invalid_api_key", "Invalid API key"),
    drf.PermissionDenied: (403, "forbidden", "Forbidden"),
    drf.NotFound: (404, "not_found", "Not Found"),
    drf.MethodNotAllowed: (405, "method_not_allowed", "Method Not Allowed"),
    drf.NotAcceptable: (406, "not_acceptable", "Not Acceptable"),
    drf.UnsupportedMediaType: (415, "unsupported_media_type", "Unsupported Media Type"),
    drf.Throttled: (429, "rate_limited", "Too Many Requests"),
}
# Codes DRF generates by default; ours replace them. A view's explicit code (e.g.
# `PermissionDenied(code="tenant_suspended")`) is kept.
_GENERIC_DRF_CODES = {
    "parse_error",
    "not_authenticated",
    "authentication_failed",
    "permission_denied",
    "not_found",
    "method_not_allowed",
    "not_acceptable",
    "unsupported_media_type",
    "throttled",
    "error",
    "invalid",
}


def flatten_validation_errors(detail, prefix: str = "") -> list[FieldError]:
    """DRF's nested error detail → [{field: "a.b[0].c", message, code}]."""
    errors: list[FieldError] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):  # ListField/DictField items: scopes[0]
                path = f"{prefix}[{key}]"
            elif key in ("non_field_errors", "__all__"):
                path = prefix
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            errors += flatten_validation_errors(value, path)
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            for item in detail:
                errors.append(FieldError(prefix or "body", str(item), getattr(item, "code", "invalid")))
        else:
            for index, item in enumerate(detail):
                errors += flatten_validation_errors(item, f"{prefix}[{index}]")
    else:
        errors.append(FieldError(prefix or "body", str(detail), getattr(detail, "code", "invalid")))
    return errors


def problem_response(status: int, body: dict, headers: dict | None = None) -> Response:
    response = Response(body, status=status, headers=headers, content_type=PROBLEM_CONTENT_TYPE)
    return response


def _drf_problem(exc: drf.APIException) -> tuple[int, dict, dict]:
    headers = {}
    status, code, title = next(
        (mapped for klass, mapped in _DRF_CODES.items() if isinstance(exc, klass)),
        (exc.status_code, "error", "Error"),
    )
    explicit = exc.get_codes() if isinstance(exc.get_codes(), str) else None
    if explicit and explicit not in _GENERIC_DRF_CODES:
        code = explicit
    detail = str(exc.detail) if not isinstance(exc.detail, dict | list) else title
    extra = {}
    if isinstance(exc, drf.Throttled) and exc.wait is not None:
        headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
        detail = f"Rate limit exceeded; retry in {headers['Retry-After']} s."
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        headers["WWW-Authenticate"] = 'Bearer realm="finfactory"'
    if isinstance(exc, drf.MethodNotAllowed):
        detail = f"Method {exc.args[0] if exc.args else ''} is not allowed here.".replace("  ", " ")
    return status, problem_body(status=status, code=code, title=title, detail=detail, **extra), headers


def exception_handler(exc, context):
    headers: dict = {}
    if isinstance(exc, PlatformError):
        status = exc.status
        body = problem_body(
            status=status, code=exc.code, title=exc.title, detail=exc.detail, errors=exc.errors, **exc.extra
        )
        if status == 503:
            headers["Retry-After"] = "1"
    elif isinstance(exc, drf.ValidationError):
        errors = flatten_validation_errors(exc.detail)
        status = 400
        body = problem_body(
            status=400,
            code="validation_error",
            title="Invalid request",
            detail="; ".join(f"{e.field}: {e.message}" for e in errors[:5]),
            errors=errors,
        )
    elif isinstance(exc, drf.APIException):
        status, body, headers = _drf_problem(exc)
    elif isinstance(exc, Http404):
        status, body = 404, problem_body(status=404, code="not_found", title="Not Found", detail="Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        status, body = 403, problem_body(status=403, code="forbidden", title="Forbidden", detail="Forbidden.")
    elif isinstance(exc, RequestDataTooBig):
        status, body = 413, payload_too_large_body()
    elif isinstance(exc, OperationalError | InterfaceError):
        # The database went away mid-request; the transaction rolled back, nothing was written.
        logger.warning("api.database_unavailable", error=str(exc)[:200])
        status, headers, body = 503, {"Retry-After": "1"}, database_unavailable_body()
    elif isinstance(exc, RecursionError):
        status, body = (
            400,
            problem_body(
                status=400,
                code="parse_error",
                title="Malformed request body",
                detail="JSON nested too deeply.",
            ),
        )
    else:
        if isinstance(exc, DatabaseError):
            logger.error("api.database_error", exc_info=exc)
        else:
            logger.error("api.unhandled_exception", exc_info=exc)
        status, body = 500, internal_error_body()
    return problem_response(status, body, headers)


def database_unavailable_body() -> dict:
    return problem_body(
        status=503,
        code="service_unavailable",
        title="Service Unavailable",
        detail="A dependency is temporarily unavailable; nothing was changed. Retry the request.",
    )


def internal_error_body() -> dict:
    return problem_body(
        status=500,
        code="internal_error",
        title="Internal Server Error",
        detail="An unexpected error occurred. Quote the request_id when contacting support.",
    )


def payload_too_large_body() -> dict:
    from django.conf import settings

    return problem_body(
        status=413,
        code="payload_too_large",
        title="Payload Too Large",
        detail=f"Request bodies are limited to {settings.API_MAX_BODY_BYTES} bytes.",
    )
