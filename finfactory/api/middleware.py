"""Refuse oversized API bodies before anything reads them (413 problem+json)."""

import json

from django.conf import settings
from django.http import HttpResponse

from finfactory.api.exceptions import payload_too_large_body
from finfactory.api.problems import PROBLEM_CONTENT_TYPE
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
        return self.get_response(request)
