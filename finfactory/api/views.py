"""Error views for paths that no DRF view handles (`handler404`, `handler500`)."""

import json

from django.http import HttpResponse
from django.views import defaults

from finfactory.api.exceptions import internal_error_body
from finfactory.api.problems import PROBLEM_CONTENT_TYPE, problem_body

API_PREFIXES = ("/v1/", "/platform/", "/internal/")


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIXES) or request.path in ("/v1", "/platform")


def _problem(status: int, body: dict) -> HttpResponse:
    return HttpResponse(json.dumps(body), status=status, content_type=PROBLEM_CONTENT_TYPE)


def not_found(request, exception=None):
    if _is_api(request):
        return _problem(404, problem_body(status=404, code="not_found", title="Not Found", detail="No such resource."))
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return _problem(500, internal_error_body())
    return defaults.server_error(request)
