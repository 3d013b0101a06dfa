"""Every error path of the API answers RFC 9457 problem+json with a stable code, and writes nothing."""

import json

import pytest

from finfactory.apikeys.models import ApiKey
from tests.helpers import api_client, error_fields, problem

VALID = {"name": "ci", "scopes": ["wallets:read"]}


@pytest.fixture
def acme(make_tenant):
    return make_tenant("acme")


def post_raw(client, body: bytes, content_type: str = "application/json"):
    return client.generic("POST", "/v1/api-keys", body, content_type=content_type)


@pytest.mark.parametrize(
    ("case", "body", "content_type", "status", "code", "fields"),
    [
        ("malformed json", b'{"name": "ci",', "application/json", 400, "parse_error", []),
        ("not utf-8", b'{"name": "\xff"}', "application/json", 400, "parse_error", []),
        ("NaN literal", b'{"name": NaN, "scopes": []}', "application/json", 400, "parse_error", []),
        ("deeply nested", b'{"a":' * 200 + b"1" + b"}" * 200, "application/json", 400, "parse_error", []),
        ("NUL in a value", b'{"name": "c\\u0000i", "scopes": []}', "application/json", 400, "parse_error", []),
        ("NUL in a key", b'{"name\\u0000": "ci", "scopes": []}', "application/json", 400, "parse_error", []),
        ("lone surrogate in a key", b'{"\\ud800": 1}', "application/json", 400, "parse_error", []),
        ("lone surrogate in a value", b'{"name": "\\udfff"}', "application/json", 400, "parse_error", []),
        (
            "wrong types",
            json.dumps({"name": ["x"], "scopes": "wallets:read"}).encode(),
            "application/json",
            400,
            "validation_error",
            ["name", "scopes"],
        ),
        (
            "unknown field",
            json.dumps({**VALID, "admin": True}).encode(),
            "application/json",
            400,
            "validation_error",
            ["admin"],
        ),
        (
            "unknown scope",
            json.dumps({"name": "x", "scopes": ["root"]}).encode(),
            "application/json",
            400,
            "validation_error",
            ["scopes[0]"],
        ),
        (
            "missing field",
            json.dumps({"scopes": ["wallets:read"]}).encode(),
            "application/json",
            400,
            "validation_error",
            ["name"],
        ),
        ("array body", b"[1, 2]", "application/json", 400, "validation_error", ["body"]),
        (
            "2 MiB body",
            json.dumps({"name": "x" * (2 * 1024 * 1024)}).encode(),
            "application/json",
            413,
            "payload_too_large",
            [],
        ),
        ("form encoded", b"name=ci", "application/x-www-form-urlencoded", 415, "unsupported_media_type", []),
        ("plain text", b"hello", "text/plain", 415, "unsupported_media_type", []),
    ],
)
def test_bad_input_is_a_problem_naming_the_field_and_nothing_is_written(
    acme, case, body, content_type, status, code, fields
):
    client = api_client(acme.api_key.secret)
    before = ApiKey.objects.count()

    response = post_raw(client, body, content_type)

    result = problem(response, status, code)
    assert error_fields(result) == fields, case
    assert ApiKey.objects.count() == before


def test_a_valid_request_passes_the_same_path(acme):
    response = post_raw(api_client(acme.api_key.secret), json.dumps(VALID).encode())

    assert response.status_code == 201
    assert response.json()["scopes"] == ["wallets:read"]


def test_missing_key_is_401_with_www_authenticate(acme):
    response = api_client().get("/v1/api-keys")

    problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer ff_test_doesnotexist0000000000000000000000000000",
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer a b",
        "Bearer ff_test_\u00e9\u00e9",
    ],
)
def test_malformed_or_unknown_keys_are_401(acme, header):
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=header)

    problem(client.get("/v1/api-keys"), 401, "invalid_api_key")


def test_method_not_allowed_is_405(acme):
    response = api_client(acme.api_key.secret).delete("/v1/api-keys")

    problem(response, 405, "method_not_allowed")


def test_unacceptable_accept_header_is_406(acme):
    response = api_client(acme.api_key.secret).get("/v1/api-keys", HTTP_ACCEPT="text/html")

    problem(response, 406, "not_acceptable")


@pytest.mark.parametrize("path", ["/v1/nothing-here", "/v1/api-keys/key_unknown", "/platform/v1/nope"])
def test_unknown_paths_and_ids_are_404(acme, path):
    problem(api_client(acme.api_key.secret).get(path), 404, "not_found")


def test_an_unexpected_error_is_500_with_request_id_and_no_internals(acme, settings):
    settings.ROOT_URLCONF = settings.PUBLIC_SCHEMA_URLCONF = "tests.kernel.api.boom_urls"

    response = api_client(acme.api_key.secret).get("/v1/boom", HTTP_X_REQUEST_ID="req_boom1")

    body = problem(response, 500, "internal_error")
    assert body["request_id"] == "req_boom1"
    assert "hunter2" not in response.content.decode()
    assert "Traceback" not in response.content.decode()


@pytest.mark.parametrize(("limit", "ok"), [("0", False), ("101", False), ("abc", False), ("-1", False), ("1", True)])
def test_list_limit_is_validated(acme, limit, ok):
    response = api_client(acme.api_key.secret).get(f"/v1/api-keys?limit={limit}")

    if ok:
        assert response.status_code == 200
    else:
        assert error_fields(problem(response, 400, "validation_error")) == ["limit"]


def test_a_forged_cursor_is_400_invalid_cursor(acme):
    response = api_client(acme.api_key.secret).get("/v1/api-keys?cursor=not-a-cursor")

    assert error_fields(problem(response, 400, "invalid_cursor")) == ["cursor"]


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("get", "/v1/events?type=%00", "type"),
        ("get", "/v1/events/evt%00", "path"),
        ("get", "/v1/transactions/%00", "path"),
        ("get", "/internal/ledger/accounts?owner_ref=x%00y", "owner_ref"),
        ("post", "/v1/api-keys/%00/revoke", "path"),
    ],
)
def test_a_nul_in_the_path_or_query_is_a_400_before_any_query(acme, method, path, field):
    client = api_client(acme.api_key.secret)

    response = getattr(client, method)(path, HTTP_IDEMPOTENCY_KEY="nul-1")

    assert error_fields(problem(response, 400, "validation_error")) == [field]


def test_an_idempotent_post_with_a_nul_in_a_key_is_refused_not_a_500(acme):
    client = api_client(acme.api_key.secret)

    response = client.generic("POST", "/v1/api-keys", b'{"a\\u0000": 1}', content_type="application/json",
                              HTTP_IDEMPOTENCY_KEY="nul-2")  # fmt: skip

    problem(response, 400, "parse_error")
