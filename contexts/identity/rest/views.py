"""`POST /callbacks/identity/<provider>`: a KYC provider's decision, on the tenant's host.

The host names the tenant (django-tenants routes it to the tenant's schema and this URL
configuration); the signature authenticates the provider. No API key, no session, no CSRF token:
the provider is not a browser. Answers 200 `{received: true}` for a decision applied, replayed
or deliberately ignored, and problem+json otherwise (403 bad signature, 400 malformed, 404).
"""

import json

from django.db import connection
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_tenants.utils import get_public_schema_name

from finfactory.api.problems import PROBLEM_CONTENT_TYPE, problem_body
from finfactory.errors import NotFound, PlatformError

from ..callbacks import kyc_callback_handle


def _json(status: int, body: dict, content_type: str = "application/json") -> HttpResponse:
    return HttpResponse(json.dumps(body), status=status, content_type=content_type)


@csrf_exempt
@require_POST
def kyc_callback(request, provider: str) -> HttpResponse:
    try:
        if connection.schema_name == get_public_schema_name():
            raise NotFound("No tenant is served on this host.")
        status = kyc_callback_handle(provider=provider, headers=request.headers, body=request.body)
    except PlatformError as error:
        body = problem_body(
            status=error.status, code=error.code, title=error.title, detail=error.detail, errors=error.errors
        )
        return _json(error.status, body, PROBLEM_CONTENT_TYPE)
    return _json(200, {"received": True, "kyc_status": status.status if status else None})
