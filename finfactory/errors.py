"""Errors a service raises, free of any HTTP framework.

Contexts raise these (or subclasses) from services and `api.py`; the API layer renders them as
RFC 9457 problem+json with the same `code`. Codes are stable, snake_case, and part of the API
contract (docs/errors.md).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    code: str = "invalid"


class PlatformError(Exception):
    """Base class: an HTTP status, a stable code, a human detail and optional field errors."""

    status: int = 400
    code: str = "bad_request"
    title: str = "Bad Request"

    def __init__(self, detail: str | None = None, *, code: str | None = None, errors=None, **extra):
        self.detail = detail or self.title
        if code is not None:
            self.code = code
        self.errors: list[FieldError] = list(errors or [])
        self.extra = extra
        super().__init__(self.detail)


class InvalidInput(PlatformError):
    status, code, title = 400, "validation_error", "Invalid request"


class NotFound(PlatformError):
    status, code, title = 404, "not_found", "Not Found"


class Conflict(PlatformError):
    status, code, title = 409, "conflict", "Conflict"


class BusinessRuleViolation(PlatformError):
    """A well-formed request the rules refuse (insufficient_funds, limit_exceeded, …)."""

    status, code, title = 422, "unprocessable", "Unprocessable Request"


class Forbidden(PlatformError):
    status, code, title = 403, "forbidden", "Forbidden"


class RetryableError(PlatformError):
    """A transient condition (lock timeout, dependency down): the same request may succeed later."""

    status, code, title = 503, "service_unavailable", "Service Unavailable"
