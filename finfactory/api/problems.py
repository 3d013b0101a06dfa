"""RFC 9457 problem documents (`application/problem+json`)."""

from django.conf import settings

from finfactory.request_context import current_request_id

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_type(code: str) -> str:
    return f"{settings.PROBLEM_TYPE_BASE_URL}{code}"


def problem_body(*, status: int, code: str, title: str, detail: str, errors=None, request_id=None, **extra) -> dict:
    body = {
        "type": problem_type(code),
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": request_id or current_request_id(),
    }
    if errors:
        body["errors"] = [
            {"field": e.field, "message": e.message, "code": e.code} if not isinstance(e, dict) else e for e in errors
        ]
    body.update(extra)
    return body
