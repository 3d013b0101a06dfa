"""Hostile request bodies on every POST of the tenant API: too large, nested too deep, not JSON,
not UTF-8, JSON that is not an object, duplicate keys, the wrong media type, nothing at all.

docs/errors.md: 413 `payload_too_large` over API_MAX_BODY_BYTES; 400 `parse_error` for malformed
JSON, text that is not UTF-8, NaN/Infinity, nesting deeper than 32; 415 `unsupported_media_type`
for a body that is not `application/json`; 400 `validation_error` naming the field otherwise
(`body` for the body as a whole). The path names the caller's own resources, so an endpoint that
ignored its body would act — and be caught: nothing may be written.
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings

from .conftest import api_endpoints, fields_named, path_values, refusal, send, unknown_ids

POSTS = [endpoint for endpoint in api_endpoints() if endpoint.method == "POST" and not endpoint.public]
TENANT_POSTS = [endpoint for endpoint in POSTS if not endpoint.route.startswith("platform/")]
NOT_FOUND = {"not_found", "account_not_found", "entry_not_found", "hold_not_found"}


def idempotency_key_for(endpoint) -> str | None:
    """A key only where the operation requires one: without it, the view alone reads the body."""
    required = getattr(getattr(endpoint.view, "post", None), "idempotency", {}).get("required")
    return "auto" if required else None


def nested(depth: int, *, array: bool = False) -> bytes:
    opening, closing = (b"[", b"]") if array else (b'{"a":', b"}")
    return opening * depth + b"1" + closing * depth


def oversize() -> bytes:
    padding = settings.API_MAX_BODY_BYTES  # with the braces and the key: one limit and then some
    return json.dumps({"description": "x" * padding}).encode()


# (label, raw body, content type, status, code, field the errors name or None)
BATTERY = [
    ("over API_MAX_BODY_BYTES", oversize, "application/json", 413, "payload_too_large", None),
    ("nested 10,000 objects deep", lambda: nested(10_000), "application/json", 400, "parse_error", None),
    ("nested 100 objects deep", lambda: nested(100), "application/json", 400, "parse_error", None),
    (
        "nested 100 arrays deep",
        lambda: b'{"a":' + nested(100, array=True) + b"}",
        "application/json",
        400,
        "parse_error",
        None,
    ),
    ("truncated JSON", lambda: b'{"amount": 100, "currency": "PH', "application/json", 400, "parse_error", None),
    ("not UTF-8", lambda: b'{"description": "caf\xe9"}', "application/json", 400, "parse_error", None),
    ("an array", lambda: b'[{"amount": 100}]', "application/json", 400, "validation_error", "body"),
    ("a string", lambda: b'"{\\"amount\\": 100}"', "application/json", 400, "validation_error", "body"),
    ("a number", lambda: b"100", "application/json", 400, "validation_error", "body"),
    ("null", lambda: b"null", "application/json", 400, "validation_error", "body"),
    ("true", lambda: b"true", "application/json", 400, "validation_error", "body"),
    ("an empty array", lambda: b"[]", "application/json", 400, "validation_error", "body"),
    ("duplicate keys", lambda: b'{"reason": "a", "reason": "b"}', "application/json", 400, "parse_error", None),
    ("an unknown field", lambda: b'{"hostile": true}', "application/json", 400, "validation_error", "hostile"),
    ("text/plain", lambda: b'{"reason": "a"}', "text/plain", 415, "unsupported_media_type", None),
    ("a form", lambda: b"reason=a", "application/x-www-form-urlencoded", 415, "unsupported_media_type", None),
]


# Whether an endpoint reads its body at all, refuses what is not an object, refuses a field it does
# not know, a media type it does not read and a body over the limit is a matter of its view: these
# run on every POST. The rest is the parser's, the same for every view that reads its body: the
# whole battery runs on a money movement (whose Idempotency-Key check parses the body first) and on
# operations that take no body (whose view alone reads it).
PER_ENDPOINT = {"over API_MAX_BODY_BYTES", "truncated JSON", "null", "an unknown field", "text/plain"}
WHOLE_BATTERY = {
    "POST /v1/cash-ins",
    "POST /v1/wallets/<str:wallet_id>/suspend",
    "POST /internal/ledger/holds/<str:hold_id>/release",
}


def test_the_whole_battery_runs_on_endpoints_that_exist():
    assert {str(endpoint) for endpoint in TENANT_POSTS} >= WHOLE_BATTERY


def _battery():
    for endpoint in TENANT_POSTS:
        for case in BATTERY:
            if case[0] not in PER_ENDPOINT and str(endpoint) not in WHOLE_BATTERY:
                continue
            yield pytest.param(endpoint, *case, id=f"{case[0]}-{endpoint}")


@pytest.mark.parametrize(("endpoint", "label", "raw", "content_type", "status", "code", "field"), list(_battery()))
def test_a_hostile_body_is_refused_before_anything_is_written(
    world, endpoint, label, raw, content_type, status, code, field
):
    path = endpoint.path(**path_values(endpoint, world.a.ids))

    with world.watch.unchanged():
        response = send(
            world.client(),
            "POST",
            path,
            raw=raw(),
            content_type=content_type,
            idempotency_key=idempotency_key_for(endpoint),
        )

    problem = refusal(response, status, code)
    if field is not None:
        assert field in fields_named(problem), problem


@pytest.mark.parametrize("endpoint", TENANT_POSTS, ids=str)
def test_an_empty_body_is_refused_naming_the_required_fields(world, endpoint):
    """No body at all: the fields the operation requires are named; an operation that takes no
    body reaches its lookup, of an id that names nothing."""
    path = endpoint.path(**path_values(endpoint, unknown_ids(world.a.ids)))

    with world.watch.unchanged():
        response = send(world.client(), "POST", path, raw=b"", idempotency_key=idempotency_key_for(endpoint))

    problem = refusal(response, {400, 404})
    if response.status_code == 400:
        assert problem["code"] == "validation_error" and fields_named(problem), problem
    else:
        assert problem["code"] in NOT_FOUND, problem


@pytest.mark.parametrize(
    ("label", "raw"),
    [
        ("NaN", b'{"amount": NaN, "currency": "PHP"}'),
        ("Infinity", b'{"amount": Infinity, "currency": "PHP"}'),
        ("-Infinity", b'{"amount": -Infinity, "currency": "PHP"}'),
        ("single quotes", b"{'amount': 100}"),
        ("a trailing comma", b'{"amount": 100,}'),
        ("a comment", b'{"amount": 100 /* PHP */}'),
        ("garbage after the object", b'{"amount": 100} {"amount": 1}'),
        ("a UTF-8 byte order mark", b'\xef\xbb\xbf{"amount": 100}'),
        ("UTF-16", '{"amount": 100}'.encode("utf-16")),
        ("an integer of 5,000 digits", b'{"amount": ' + b"9" * 5_000 + b"}"),
        ("a lone surrogate", b'{"wallet_id": "\\ud800"}'),
        ("a NUL", b'{"wallet_id": "wal_\\u0000"}'),
        ("duplicate amounts", b'{"wallet_id": "W", "amount": 100, "amount": 100000000, "currency": "PHP"}'),
    ],
)
def test_malformed_json_on_a_money_moving_post_is_a_parse_error(world, label, raw):
    raw = raw.replace(b'"W"', json.dumps(world.a.ids["wallet_id"]).encode())

    with world.watch.unchanged():
        response = send(world.client(), "POST", "/v1/cash-ins", raw=raw)

    refusal(response, 400, "parse_error")


@pytest.mark.parametrize(
    "content_type",
    ["multipart/form-data; boundary=x", "application/xml", "application/json-patch+json", "text/json"],
)
def test_a_body_of_another_media_type_is_415(world, content_type):
    body = json.dumps({"wallet_id": world.a.ids["wallet_id"], "amount": 100, "currency": "PHP"}).encode()

    with world.watch.unchanged():
        response = send(world.client(), "POST", "/v1/cash-ins", raw=body, content_type=content_type)

    refusal(response, 415, "unsupported_media_type")


def test_the_body_limit_is_exactly_api_max_body_bytes(world):
    """At the limit the body is read (and refused for what it says); one byte more is 413."""
    limit = settings.API_MAX_BODY_BYTES
    at_limit = b'{"reason": "' + b"x" * (limit - len(b'{"reason": ""}')) + b'"}'
    path = f"/v1/wallets/{world.a.ids['wallet_id']}/suspend"
    assert len(at_limit) == limit

    with world.watch.unchanged():
        read = send(world.client(), "POST", path, raw=at_limit)
        over = send(world.client(), "POST", path, raw=at_limit[:-1] + b' "}')

    assert "reason" in fields_named(refusal(read, 400, "validation_error"))
    refusal(over, 413, "payload_too_large")
