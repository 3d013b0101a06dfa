"""`/v1/webhook-endpoints` (contexts/products/rest/webhooks.py) on the test URLs: create (201,
secret once), list, get, delete; errors as problem+json naming the field; scope; tenancy;
idempotent replay."""

import uuid

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from contexts.webhooks.models import WebhookEndpoint
from finfactory.apikeys.services import api_key_create
from finfactory.tenancy.context import in_public_schema, in_tenant
from tests.contexts.webhooks.conftest import ENDPOINTS, URLS, raw_row, written
from tests.helpers import api_client, error_fields, problem

BODY = {"url": "https://hooks.example.com/ff", "events": ["wallet.created", "qr.*"], "description": "Ops"}
OUT_FIELDS = {"id", "object", "url", "events", "description", "enabled", "created_at"}


def post(client, body=None, **headers):
    return client.post(ENDPOINTS, BODY if body is None else body, format="json", **headers)


def test_create_answers_201_with_the_secret_shown_once(rest, module_tenant):
    response = post(rest)

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == OUT_FIELDS | {"secret"}
    assert body["object"] == "webhook_endpoint"
    assert (body["url"], body["events"], body["description"], body["enabled"]) == (
        "https://hooks.example.com/ff", ["wallet.created", "qr.*"], "Ops", True,
    )  # fmt: skip
    assert body["id"].startswith("we_") and body["secret"].startswith("whsec_")
    assert body["created_at"].endswith("Z") or "+00:00" in body["created_at"]
    assert body["secret"] not in raw_row(module_tenant.tenant, body["id"])

    listed = rest.get(ENDPOINTS)
    fetched = rest.get(f"{ENDPOINTS}/{body['id']}")

    assert listed.status_code == fetched.status_code == 200
    assert listed.json() == {"data": [fetched.json()], "has_more": False, "next_cursor": None}
    assert set(fetched.json()) == OUT_FIELDS
    assert fetched.json() == {k: v for k, v in body.items() if k != "secret"}
    assert body["secret"].encode() not in listed.content + fetched.content


def test_list_pages_with_limit_and_cursor_newest_first(rest):
    ids = [post(rest, {**BODY, "description": f"n{n}"}).json()["id"] for n in range(3)]

    first = rest.get(ENDPOINTS, {"limit": 2}).json()
    second = rest.get(ENDPOINTS, {"limit": 2, "cursor": first["next_cursor"]}).json()

    assert [e["id"] for e in first["data"]] == ids[:0:-1] and first["has_more"] is True
    assert [e["id"] for e in second["data"]] == ids[:1] and second == {**second, "has_more": False, "next_cursor": None}
    assert error_fields(problem(rest.get(ENDPOINTS, {"limit": 0}), 400, "validation_error")) == ["limit"]
    assert error_fields(problem(rest.get(ENDPOINTS, {"limit": "x"}), 400, "validation_error")) == ["limit"]
    problem(rest.get(ENDPOINTS, {"cursor": "bogus"}), 400, "invalid_cursor")


def test_delete_answers_200_deleted_and_the_endpoint_is_gone(rest, module_tenant):
    created = post(rest).json()

    response = rest.delete(f"{ENDPOINTS}/{created['id']}")

    assert response.status_code == 200
    assert response.json() == {"id": created["id"], "object": "webhook_endpoint", "deleted": True}
    body = problem(rest.get(f"{ENDPOINTS}/{created['id']}"), 404, "not_found")
    assert error_fields(body) == ["endpoint_id"]
    problem(rest.delete(f"{ENDPOINTS}/{created['id']}"), 404, "not_found")
    assert rest.get(ENDPOINTS).json()["data"] == []
    with in_tenant(module_tenant.tenant):
        assert WebhookEndpoint.objects.get(public_id=created["id"]).deleted_at is not None


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({**BODY, "url": "ftp://hooks.example.com"}, "url", "invalid_scheme"),
        ({**BODY, "url": "https://u:p@hooks.example.com"}, "url", "credentials_not_allowed"),
        ({**BODY, "url": "https://hooks.example.com/#x"}, "url", "fragment_not_allowed"),
        ({**BODY, "url": ""}, "url", "required"),
        ({**BODY, "url": " https://hooks.example.com"}, "url", "invalid_url"),
        ({**BODY, "events": ["wallet.created", "qr.*", "nope.created"]}, "events[2]", "unknown_event_type"),
        ({**BODY, "events": []}, "events", "required"),
        ({**BODY, "events": "wallet.created"}, "events", "not_a_list"),
        ({**BODY, "events": ["*"] * 101}, "events", "too_many"),
        ({**BODY, "description": "d" * 501}, "description", "too_long"),
        ({"events": ["*"]}, "url", "required"),
        ({"url": BODY["url"]}, "events", "required"),
        ({**BODY, "secret": "whsec_mine"}, "secret", "unknown_field"),
        ({**BODY, "enabled": False}, "enabled", "unknown_field"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_writes_nothing(rest, module_tenant, body, field, code):
    before = written(module_tenant.tenant)

    response = post(rest, body, HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)

    errors = problem(response, 400, "validation_error")["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [(field, code)]
    assert written(module_tenant.tenant) == before


def test_https_required_and_private_hosts_refused_by_settings(rest, module_tenant, settings):
    settings.WEBHOOKS_ALLOW_HTTP = False
    settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS = False
    before = written(module_tenant.tenant)

    plain = post(rest, {**BODY, "url": "http://hooks.example.com/ff"})
    metadata = post(rest, {**BODY, "url": "https://169.254.169.254/latest"})

    assert problem(plain, 400, "validation_error")["errors"][0]["code"] == "https_required"
    assert problem(metadata, 400, "validation_error")["errors"][0]["code"] == "private_host"
    assert written(module_tenant.tenant) == before


def test_another_tenants_endpoint_is_404(rest, module_tenant, make_tenant):
    other = make_tenant("other")
    theirs = post(api_client(other.api_key.secret)).json()["id"]
    before = written(other.tenant)

    problem(rest.get(f"{ENDPOINTS}/{theirs}"), 404, "not_found")
    problem(rest.delete(f"{ENDPOINTS}/{theirs}"), 404, "not_found")

    assert theirs not in [e["id"] for e in rest.get(ENDPOINTS).json()["data"]]
    assert written(other.tenant) == before
    assert api_client(other.api_key.secret).get(f"{ENDPOINTS}/{theirs}").status_code == 200


def test_a_key_without_webhooks_manage_is_403_for_every_method(rest, module_tenant):
    created = post(rest).json()
    with in_public_schema():
        issued = api_key_create(tenant=module_tenant.tenant, name="events only", scopes=["events:read"])
    limited = api_client(issued.secret)
    before = written(module_tenant.tenant)

    responses = [
        limited.get(ENDPOINTS),
        post(limited),
        limited.get(f"{ENDPOINTS}/{created['id']}"),
        limited.delete(f"{ENDPOINTS}/{created['id']}"),
    ]

    for response in responses:
        problem(response, 403, "insufficient_scope")
    assert written(module_tenant.tenant) == before


def test_no_key_is_401(rest):
    problem(api_client().get(ENDPOINTS), 401, "not_authenticated")
    problem(api_client().post(ENDPOINTS, BODY, format="json"), 401, "not_authenticated")


def test_an_idempotent_replay_returns_the_same_endpoint_and_secret(rest, module_tenant):
    key = uuid.uuid4().hex

    first = post(rest, HTTP_IDEMPOTENCY_KEY=key)
    second = post(rest, HTTP_IDEMPOTENCY_KEY=key)
    other_body = post(rest, {**BODY, "events": ["*"]}, HTTP_IDEMPOTENCY_KEY=key)

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert error_fields(problem(other_body, 422, "idempotency_key_reused")) == ["events"]
    with in_tenant(module_tenant.tenant):
        assert list(WebhookEndpoint.objects.values_list("public_id", flat=True)) == [first.json()["id"]]


def test_the_openapi_document_describes_the_endpoints():
    schema = SchemaGenerator(urlconf=URLS).get_schema(request=None, public=True)
    validate_schema(schema)
    collection = schema["paths"]["/v1/webhook-endpoints"]
    item = schema["paths"]["/v1/webhook-endpoints/{endpoint_id}"]
    components = schema["components"]["schemas"]

    create = collection["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/WebhookEndpointCreateInRequest"
    )
    assert create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/WebhookEndpointCreatedOut"
    )
    assert [p["name"] for p in create["parameters"]] == ["Idempotency-Key"]
    assert "secret" in components["WebhookEndpointCreatedOut"]["properties"]
    assert "secret" not in components["WebhookEndpointOut"]["properties"]
    assert components["WebhookEndpointCreateInRequest"]["properties"]["events"]["maxItems"] == 100
    assert {p["name"] for p in collection["get"]["parameters"]} == {"limit", "cursor"}
    assert collection["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/WebhookEndpointListOut"
    )
    assert item["delete"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/WebhookEndpointDeletedOut"
    )
    for operation in (collection["get"], create, item["get"], item["delete"]):
        assert operation["security"] == [{"ApiKey": []}]
        assert "application/problem+json" in operation["responses"]["403"]["content"]
    assert "404" in item["get"]["responses"] and "404" in item["delete"]["responses"]
