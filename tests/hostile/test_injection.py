"""SQL-ish and script-ish strings wherever a request carries text: in the ids of every path, in
the query parameters of the lists and statements, in the Idempotency-Key and X-Request-Id headers,
and in free-text body fields.

An id that names nothing is 404 (or a 400 naming what is wrong); a filter matches nothing or is
refused naming the parameter; free text is stored verbatim and returned as JSON, or refused
naming the field. Never a 500; nothing written by a refusal; every table still there after it (the
write watch also reports a table that disappeared).
"""

from __future__ import annotations

import json
import re
import uuid

import pytest

from .conftest import api_endpoints, fields_named, refusal, send

NASTY = {
    "sql": "'; DROP TABLE ledger_account; --",
    "tautology": "1 OR 1=1",
    "script": "<script>alert(1)</script>",
    "template": "{{7*7}}",
    "jndi": "${jndi:ldap://x}",
    "traversal": "../../etc/passwd",
}
# In ids and query parameters, where each one is a lookup or a filter: a quote and a statement, a
# path that climbs, and the markup kinds together (none of them may be evaluated anywhere).
IN_LOOKUPS = {
    "sql": NASTY["sql"],
    "traversal": NASTY["traversal"],
    "tautology, script, template, jndi": "1 OR 1=1 <script>alert(1)</script> {{7*7}} ${jndi:ldap://x}",
}
NOT_FOUND = {"not_found", "account_not_found", "entry_not_found", "hold_not_found"}
WITH_IDS = [
    endpoint
    for endpoint in api_endpoints()
    if endpoint.params and not endpoint.public and not endpoint.route.startswith("platform/")
]


@pytest.mark.parametrize("text", IN_LOOKUPS.values(), ids=IN_LOOKUPS.keys())
@pytest.mark.parametrize("endpoint", WITH_IDS, ids=str)
def test_a_hostile_id_in_the_path_is_not_found(world, endpoint, text):
    path = endpoint.path(**dict.fromkeys(endpoint.params, text))
    body = {} if endpoint.method == "POST" else None

    with world.watch.unchanged():
        response = send(world.client(), endpoint.method, path, body=body)

    problem = refusal(response, {400, 404})
    if response.status_code == 404:
        assert problem["code"] in NOT_FOUND, problem
    else:  # the body of the operation was looked at first: it names the missing fields
        assert problem["code"] == "validation_error" and fields_named(problem), problem


# (path, parameter): every query parameter of the lists and statements, on the caller's own data.
QUERY_PARAMETERS = [
    ("/v1/customers", "cursor"),
    ("/v1/customers", "external_id"),
    ("/v1/customers", "kyc_status"),
    ("/v1/customers", "limit"),
    ("/v1/wallets", "cursor"),
    ("/v1/wallets", "customer_id"),
    ("/v1/wallets", "currency"),
    ("/v1/wallets", "status"),
    ("/v1/transactions", "cursor"),
    ("/v1/transactions", "type"),
    ("/v1/transactions", "wallet_id"),
    ("/v1/transactions", "created_after"),
    ("/v1/transactions", "created_before"),
    ("/v1/events", "cursor"),
    ("/v1/events", "type"),
    ("/v1/api-keys", "cursor"),
    ("/v1/webhook-endpoints", "cursor"),
    ("/v1/webhook-endpoints/{endpoint_id}/deliveries", "cursor"),
    ("/v1/wallets/{wallet_id}/statement", "from"),
    ("/v1/wallets/{wallet_id}/statement", "to"),
    ("/v1/wallets/{wallet_id}/statement", "format"),
    ("/internal/ledger/accounts", "owner_ref"),
    ("/internal/ledger/accounts", "currency"),
    ("/internal/ledger/accounts", "cursor"),
    ("/internal/ledger/accounts/{account_id}/postings", "cursor"),
    ("/internal/ledger/accounts/{account_id}/statement", "start"),
    ("/internal/ledger/accounts/{account_id}/statement", "end"),
]
# The other parameters a statement needs, valid, so that the hostile one is what is judged.
STATEMENT_QUERY = {
    "/v1/wallets/{wallet_id}/statement": {"from": "2020-01-01", "to": "2020-01-31", "format": "json"},
    "/internal/ledger/accounts/{account_id}/statement": {
        "start": "2020-01-01T00:00:00Z",
        "end": "2020-02-01T00:00:00Z",
    },
}


@pytest.mark.parametrize("text", IN_LOOKUPS.values(), ids=IN_LOOKUPS.keys())
@pytest.mark.parametrize(("path", "parameter"), QUERY_PARAMETERS, ids=[f"{p}?{q}" for p, q in QUERY_PARAMETERS])
def test_a_hostile_query_parameter_matches_nothing_or_is_refused_naming_it(world, path, parameter, text):
    query = {**STATEMENT_QUERY.get(path, {}), parameter: text}
    path = path.format(**world.a.ids)

    with world.watch.unchanged():
        response = send(world.client(), "GET", path, query=query)

    if response.status_code == 200:
        assert response.json()["data"] == [], response.content[:600]
    else:
        problem = refusal(response, 400, {"validation_error", "invalid_cursor"})
        assert parameter in fields_named(problem), problem


@pytest.mark.parametrize("text", NASTY.values(), ids=NASTY.keys())
def test_a_hostile_idempotency_key_is_kept_verbatim_and_replays(world, text):
    body = {"wallet_id": world.a.ids["wallet_id"], "amount": 1_000, "currency": "PHP"}

    first = send(world.client(), "POST", "/v1/cash-ins", body=body, idempotency_key=text)
    again = send(world.client(), "POST", "/v1/cash-ins", body=body, idempotency_key=text)

    assert first.status_code == 201, first.content[:600]
    assert (again.status_code, again["Idempotent-Replayed"]) == (201, "true")
    assert again.json() == first.json()


@pytest.mark.parametrize("text", NASTY.values(), ids=NASTY.keys())
def test_a_hostile_request_id_is_replaced_not_echoed(world, text):
    with world.watch.unchanged():
        response = send(world.client(), "GET", f"/v1/wallets/{world.b.ids['wallet_id']}", HTTP_X_REQUEST_ID=text)

    problem = refusal(response, 404, "not_found")
    assert response["X-Request-Id"] != text and re.fullmatch(
        r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}", problem["request_id"]
    )
    assert text not in response.content.decode()


def _customer(field: str, text: str) -> dict:
    return {"first_name": "Ana", "last_name": "Reyes", "email": f"ana-{uuid.uuid4().hex[:8]}@example.org", field: text}


# field → (path, body carrying the text, where the answer shows it, path to read it back or None)
FREE_TEXT = {
    "first_name": ("/v1/customers", lambda a, t: _customer("first_name", t), "first_name", "/v1/customers/{id}"),
    "last_name": ("/v1/customers", lambda a, t: _customer("last_name", t), "last_name", "/v1/customers/{id}"),
    "external_id": ("/v1/customers", lambda a, t: _customer("external_id", t), "external_id", "/v1/customers/{id}"),
    "description": (
        "/v1/webhook-endpoints",
        lambda a, t: {"url": "https://hooks.example.com/x", "events": ["*"], "description": t},
        "description",
        "/v1/webhook-endpoints/{id}",
    ),
    "name": ("/v1/api-keys", lambda a, t: {"name": t, "scopes": ["events:read"]}, "name", "/v1/api-keys/{id}"),
    "merchant_name": (
        "/v1/qr-codes",
        lambda a, t: {"wallet_id": a["wallet_id"], "merchant_name": t, "merchant_city": "Makati"},
        None,
        None,
    ),
    "transfer description": (
        "/v1/transfers",
        lambda a, t: {
            "source_wallet_id": a["wallet_id"],
            "destination_wallet_id": a["payee_wallet_id"],
            "amount": 100,
            "currency": "PHP",
            "description": t,
        },
        "description",
        None,
    ),
    "cash-in reference": (
        "/v1/cash-ins",
        lambda a, t: {"wallet_id": a["wallet_id"], "amount": 100, "currency": "PHP", "reference": t},
        "reference",
        None,
    ),
}


@pytest.mark.parametrize("text", NASTY.values(), ids=NASTY.keys())
@pytest.mark.parametrize("field", FREE_TEXT)
def test_hostile_free_text_is_stored_verbatim_or_refused_naming_the_field(world, field, text):
    path, body_of, shown, read = FREE_TEXT[field]
    client = world.client()

    before = world.watch.snapshot()
    response = send(client, "POST", path, body=body_of(world.a.ids, text))

    assert response.status_code in (201, 400), (response.status_code, response.content[:600])
    if response.status_code == 400:
        assert field.split()[-1] in fields_named(refusal(response, 400, "validation_error"))
        assert world.watch.changes(before, caller="A") == {}, "a refused request wrote"
        return
    created = json.loads(response.content)
    if field == "merchant_name":
        decoded = send(client, "POST", "/v1/qr-codes/decode", body={"payload": created["payload"]}).json()
        assert decoded["merchant_name"] == text
        return
    assert created[shown] == text
    if read is not None:
        assert send(client, "GET", read.format(id=created["id"])).json()[shown] == text
