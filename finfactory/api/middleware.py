"""Refuse, before anything reads them: oversized API bodies (413 problem+json), and paths or query
parameters holding a NUL character, which no database column can store (400 problem+json)."""

import json

from django.conf import settings
from django.http import HttpResponse

from finfactory.api.exceptions import payload_too_large_body
from finfactory.api.problems import PROBLEM_CONTENT_TYPE, problem_body
from finfactory.api.views import API_PREFIXES


class BodySizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(API_PREFIXES):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > settings.API_MAX_BODY_BYTES:
                return HttpResponse(json.dumps(payload_too_large_body()), status=413, content_type=PROBLEM_CONTENT_TYPE)
            field = _nul_field(request)
            if field is not None:
                body = problem_body(
                    status=400, code="validation_error", title="Invalid request",
                    detail=f"{field} contains a NUL character.",
                    errors=[{"field": field, "message": "NUL characters are not allowed.", "code": "invalid"}],
                )  # fmt: skip
                return HttpResponse(json.dumps(body), status=400, content_type=PROBLEM_CONTENT_TYPE)
        return self.get_response(request)


def _nul_field(request) -> str | None:
    if "\x00" in request.path:
        return "path"
    for key, values in request.GET.lists():
        if "\x00" in key or any("\x00" in value for value in values):
            return key.replace("\x00", "") or "query"
    return None
