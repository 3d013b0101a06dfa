"""The API against its own OpenAPI document (`GET /v1/schema`), fuzzed by schemathesis: every
operation, called in-process through the WSGI application over real PostgreSQL and Redis, must
never answer 5xx, and every answer must conform to the document (status code, content type,
headers, body).

What runs, per operation (tests/contract/conftest.py): the schema's examples, its boundary values
(schemathesis' coverage phase, valid values only), then `MAX_EXAMPLES` Hypothesis examples, valid
and invalid. Derandomized, so a run is repeatable; any failure is a bug in the API or in its
document: reproduce it with the curl command in the report (drop `--insecure`, add a key).

Calls carry a key of a tenant provisioned for the test, inside its transaction (rolled back
after it), with all tenant scopes; under `/platform/` a platform key. A seeded tenant gives half
of the generated ids a real object (a verified customer with a funded wallet, a transfer, a QR
code, a ledger hold, their events, a spare API key and a spare tenant to revoke and suspend); the
others mostly answer 404. A valid Idempotency-Key is replaced by a fresh one, so retried
examples reach the handler instead of replaying; an invalid one is sent as generated.

No operation is excluded. Not checked: whether valid data is accepted and invalid data refused
(`positive_data_acceptance`, `negative_data_rejection`): business rules (KYC level, balance,
id prefixes) refuse much of what the document allows, and answer with a documented 4xx.

Run: `pytest tests/contract -n 1` (about 20 s).
"""

import uuid

import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

schema = schemathesis.pytest.from_fixture("api_schema")

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _fresh_idempotency_key(case) -> None:
    headers = case.headers or {}
    if "Idempotency-Key" not in headers:
        return
    generated = case.meta.components.get(ParameterLocation.HEADER) if case.meta else None
    if generated is None or generated.mode is GenerationMode.POSITIVE:
        headers["Idempotency-Key"] = uuid.uuid4().hex


def _authorization(case, api_keys) -> dict[str, str]:
    """The tenant's key, or a platform key under /platform/ (set here: schemathesis 4.32.5 sends
    the configured headers of the whole schema, not an operation's, in its fuzzing phase)."""
    secret = api_keys.platform_secret if case.path.startswith("/platform/") else api_keys.secret
    return {"Authorization": f"Bearer {secret}"}


@schema.parametrize()
def test_api_conforms_to_its_schema(case, api_keys):
    _fresh_idempotency_key(case)
    case.call_and_validate(headers=_authorization(case, api_keys), checks=CHECKS)
