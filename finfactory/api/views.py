"""Error views for paths that no DRF view handles (`handler404`, `handler500`)."""

import json
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.views import defaults

from finfactory.api.exceptions import database_unavailable_body, internal_error_body
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
    """An exception outside a DRF view (in a middleware: tenant routing, authentication caches…).
    A lost database connection there is a 503 like anywhere else: nothing was written."""
    if _is_api(request):
        if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
            response = _problem(503, database_unavailable_body())
            response["Retry-After"] = "1"
            return response
        return _problem(500, internal_error_body())
    return defaults.server_error(request)
