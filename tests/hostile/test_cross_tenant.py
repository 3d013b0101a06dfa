"""Tenant A's key with tenant B's ids, on every endpoint and method the API serves.

The endpoints come from the URL resolver (`config.urls_api`: `/v1/`, `/internal/ledger/`,
`/platform/v1/`); MATRIX says, for each, where an id of B goes — the path, the body, the query —
or why none can. A route or method MATRIX does not name fails the suite: a new endpoint must say
how another tenant's id reaches it.

API.md: "Unknown id → 404 not_found, also when the id belongs to another tenant" (the internal
ledger answers its documented `account_not_found` / `entry_not_found` / `hold_not_found`). An id of
B in a body is refused naming the field; in a list filter it matches nothing. No answer mentions an
id of B that the request did not carry, and nothing is written in A, B or the public schema.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from .conftest import api_endpoints, fields_named, path_values, refusal, send

ENDPOINTS = api_endpoints()

LEDGER_NOT_FOUND = {"account_not_found", "entry_not_found", "hold_not_found"}
AMOUNT = {"amount": 1_000, "currency": "PHP"}


@dataclass(frozen=True)
class Case:
    """How one request carries ids of B, and what must come back.

    kind: `path` (B's ids in the path → 404), `body` (in the body, in `fields` → refused naming
    one of them), `query` (a filter or cursor of B → an empty page or a refusal), `listing` (A's
    own list → none of B's ids), `stateless` (a computation on what was sent, no lookup → 200),
    `platform` (an operator route: a tenant key → 401).
    """

    kind: str
    label: str = ""
    body: Callable[[dict, dict], dict] | None = None
    query: Callable[[dict, dict], dict] | None = None
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class NoTenantInput:
    """The endpoint takes no id a request could borrow from another tenant."""

    reason: str


def PATH(body=None, query=None) -> Case:
    return Case("path", "path ids of B", body=body, query=query)


def BODY(label: str, fields: tuple[str, ...], body) -> Case:
    return Case("body", label, body=body, fields=fields)


def QUERY(label: str, query) -> Case:
    return Case("query", label, query=query)


LISTING = Case("listing", "A's own list")
PLATFORM = Case("platform", "operator route")


def cursor_of(name: str) -> Case:
    return QUERY(f"a cursor B was given for {name}", lambda a, b: {"cursor": b[f"cursor:{name}"]})


def _entry(debit: str, credit: str) -> dict:
    line = {"amount": 100, "currency": "PHP"}
    return {
        "external_ref": "hostile-entry",
        "postings": [
            {"account_id": debit, "direction": "debit", **line},
            {"account_id": credit, "direction": "credit", **line},
        ],
    }


MATRIX: dict[str, list[Case] | NoTenantInput] = {
    "GET /v1/schema": NoTenantInput("the OpenAPI document: served without a key, the same for every tenant"),
    "GET /v1/docs": NoTenantInput("the documentation page: served without a key, the same for every tenant"),
    "GET /v1/api-keys": [LISTING, cursor_of("api-keys")],
    "POST /v1/api-keys": NoTenantInput("a name and scopes: no id"),
    "GET /v1/api-keys/<str:key_id>": [PATH()],
    "POST /v1/api-keys/<str:key_id>/revoke": [PATH(body=lambda a, b: {})],
    "POST /v1/api-keys/<str:key_id>/rotate": [PATH(body=lambda a, b: {})],
    "GET /v1/events": [LISTING, cursor_of("events")],
    "GET /v1/events/<str:event_id>": [PATH()],
    "GET /v1/customers": [
        LISTING,
        QUERY("B's external_id", lambda a, b: {"external_id": b["external_id"]}),
        cursor_of("customers"),
    ],
    "POST /v1/customers": NoTenantInput("personal details; external_id is the caller's own reference, per tenant"),
    "GET /v1/customers/<str:customer_id>": [PATH()],
    "GET /v1/customers/<str:customer_id>/kyc": [PATH()],
    "POST /v1/customers/<str:customer_id>/kyc": [
        PATH(body=lambda a, b: {"id_type": "passport", "id_number": "P7654321"})
    ],
    "GET /v1/wallets": [
        LISTING,
        QUERY("B's customer_id", lambda a, b: {"customer_id": b["customer_id"]}),
        cursor_of("wallets"),
    ],
    "POST /v1/wallets": [
        BODY("B's customer", ("customer_id",), lambda a, b: {"customer_id": b["customer_id"], "currency": "PHP"})
    ],
    "GET /v1/wallets/<str:wallet_id>": [PATH()],
    "GET /v1/wallets/<str:wallet_id>/balance": [PATH()],
    "GET /v1/wallets/<str:wallet_id>/statement": [PATH(query=lambda a, b: {"from": "2020-01-01", "to": "2020-01-31"})],
    "POST /v1/wallets/<str:wallet_id>/suspend": [PATH(body=lambda a, b: {"reason": "hostile"})],
    "POST /v1/wallets/<str:wallet_id>/activate": [PATH(body=lambda a, b: {})],
    "POST /v1/wallets/<str:wallet_id>/close": [PATH(body=lambda a, b: {})],
    "POST /v1/cash-ins": [BODY("B's wallet", ("wallet_id",), lambda a, b: {"wallet_id": b["wallet_id"], **AMOUNT})],
    "GET /v1/cash-ins/<str:operation_id>": [PATH()],
    "POST /v1/cash-outs": [BODY("B's wallet", ("wallet_id",), lambda a, b: {"wallet_id": b["wallet_id"], **AMOUNT})],
    "GET /v1/cash-outs/<str:operation_id>": [PATH()],
    "POST /v1/transfers": [
        BODY(
            "to B's wallet",
            ("destination_wallet_id",),
            lambda a, b: {"source_wallet_id": a["wallet_id"], "destination_wallet_id": b["wallet_id"], **AMOUNT},
        ),
        BODY(
            "from B's wallet",
            ("source_wallet_id",),
            lambda a, b: {"source_wallet_id": b["wallet_id"], "destination_wallet_id": a["wallet_id"], **AMOUNT},
        ),
        BODY(
            "between B's wallets",
            ("source_wallet_id", "destination_wallet_id"),
            lambda a, b: {"source_wallet_id": b["wallet_id"], "destination_wallet_id": b["payee_wallet_id"], **AMOUNT},
        ),
    ],
    "GET /v1/transfers/<str:operation_id>": [PATH()],
    "POST /v1/qr-codes": [
        BODY(
            "B's wallet",
            ("wallet_id",),
            lambda a, b: {"wallet_id": b["wallet_id"], "merchant_name": "Hostile", "merchant_city": "Makati"},
        )
    ],
    "POST /v1/qr-codes/decode": [
        Case("stateless", "B's QR payload (printed on B's sticker)", body=lambda a, b: {"payload": b["static_payload"]})
    ],
    "GET /v1/qr-codes/<str:qr_code_id>": [PATH()],
    "GET /v1/qr-codes/<str:qr_code_id>/image.png": [PATH()],
    "POST /v1/qr-payments": [
        BODY(
            "from B's wallet",
            ("wallet_id",),
            lambda a, b: {"wallet_id": b["wallet_id"], "payload": a["static_payload"], "amount": 1_000},
        ),
    ],
    "GET /v1/qr-payments/<str:operation_id>": [PATH()],
    "GET /v1/transactions": [
        LISTING,
        QUERY("B's wallet_id", lambda a, b: {"wallet_id": b["wallet_id"]}),
        cursor_of("transactions"),
    ],
    "GET /v1/transactions/<str:transaction_id>": [PATH()],
    "GET /v1/webhook-endpoints": [LISTING, cursor_of("webhook-endpoints")],
    "POST /v1/webhook-endpoints": NoTenantInput("a URL and event types: no id"),
    "GET /v1/webhook-endpoints/<str:endpoint_id>": [PATH()],
    "DELETE /v1/webhook-endpoints/<str:endpoint_id>": [PATH()],
    "POST /v1/webhook-endpoints/<str:endpoint_id>/rotate-secret": [PATH(body=lambda a, b: {})],
    "GET /v1/webhook-endpoints/<str:endpoint_id>/deliveries": [PATH()],
    "POST /v1/webhook-endpoints/<str:endpoint_id>/deliveries/<str:delivery_id>/redeliver": [PATH(body=lambda a, b: {})],
    "GET /internal/ledger/accounts": [
        LISTING,
        QUERY("B's wallet as owner_ref", lambda a, b: {"owner_ref": b["wallet_id"]}),
        cursor_of("ledger-accounts"),
    ],
    "POST /internal/ledger/accounts": NoTenantInput("owner_ref is the caller's free-text reference, never looked up"),
    "GET /internal/ledger/accounts/<str:account_id>": [PATH()],
    "GET /internal/ledger/accounts/<str:account_id>/balance": [PATH()],
    "GET /internal/ledger/accounts/<str:account_id>/postings": [PATH()],
    "GET /internal/ledger/accounts/<str:account_id>/statement": [
        PATH(query=lambda a, b: {"start": "2020-01-01T00:00:00Z", "end": "2020-02-01T00:00:00Z"})
    ],
    "POST /internal/ledger/accounts/<str:account_id>/freeze": [PATH(body=lambda a, b: {})],
    "POST /internal/ledger/accounts/<str:account_id>/unfreeze": [PATH(body=lambda a, b: {})],
    "POST /internal/ledger/entries": [
        BODY("debit B's account", ("postings[0].account_id",), lambda a, b: _entry(b["account_id"], a["account_id"])),
        BODY("credit B's account", ("postings[1].account_id",), lambda a, b: _entry(a["account_id"], b["account_id"])),
    ],
    "GET /internal/ledger/entries/<str:entry_id>": [PATH()],
    "POST /internal/ledger/entries/<str:entry_id>/reversals": [PATH(body=lambda a, b: {"external_ref": "hostile-rev"})],
    "POST /internal/ledger/transfers": [
        BODY(
            "debit B's account",
            ("debit_account_id",),
            lambda a, b: {
                "external_ref": "hostile-trf",
                "debit_account_id": b["account_id"],
                "credit_account_id": a["account_id"],
                **AMOUNT,
            },
        ),
        BODY(
            "credit B's account",
            ("credit_account_id",),
            lambda a, b: {
                "external_ref": "hostile-trf",
                "debit_account_id": a["account_id"],
                "credit_account_id": b["account_id"],
                **AMOUNT,
            },
        ),
    ],
    "POST /internal/ledger/holds": [
        BODY(
            "on B's account",
            ("account_id",),
            lambda a, b: {
                "external_ref": "hostile-hold",
                "account_id": b["account_id"],
                "credit_account_id": a["payee_account_id"],
                **AMOUNT,
            },
        ),
        BODY(
            "to B's account",
            ("credit_account_id",),
            lambda a, b: {
                "external_ref": "hostile-hold",
                "account_id": a["account_id"],
                "credit_account_id": b["account_id"],
                **AMOUNT,
            },
        ),
    ],
    "GET /internal/ledger/holds/<str:hold_id>": [PATH()],
    "POST /internal/ledger/holds/<str:hold_id>/capture": [PATH(body=lambda a, b: {"external_ref": "hostile-cap"})],
    "POST /internal/ledger/holds/<str:hold_id>/release": [PATH(body=lambda a, b: {})],
    "GET /internal/ledger/trial-balance": NoTenantInput("totals of the caller's own ledger: no id, no rows of anyone"),
    "GET /platform/v1/tenants": [PLATFORM],
    "POST /platform/v1/tenants": [PLATFORM],
    "GET /platform/v1/tenants/<str:slug>": [PLATFORM],
    "POST /platform/v1/tenants/<str:slug>/suspend": [PLATFORM],
    "POST /platform/v1/tenants/<str:slug>/activate": [PLATFORM],
}


def _cases():
    for endpoint in ENDPOINTS:
        entry = MATRIX.get(str(endpoint))
        if entry is None:
            yield pytest.param(endpoint, None, id=f"{endpoint} [not in MATRIX]")
        elif isinstance(entry, list):
            for case in entry:
                yield pytest.param(endpoint, case, id=f"{endpoint} [{case.label}]")


def test_the_matrix_names_every_endpoint_the_api_serves_and_no_other():
    served = {str(endpoint) for endpoint in ENDPOINTS}

    assert served - set(MATRIX) == set(), "new endpoints: say in MATRIX how another tenant's id reaches them"
    assert set(MATRIX) - served == set(), "MATRIX names endpoints the API no longer serves"


def _leaked(text: str, sent: str, b: dict) -> set[str]:
    """Ids of B in an answer that the request did not carry itself."""
    return {value for value in b.values() if value and value in text and value not in sent}


@pytest.mark.parametrize(("endpoint", "case"), list(_cases()))
def test_a_tenant_key_cannot_reach_another_tenants_resources(world, endpoint, case):
    assert case is not None, f"{endpoint} is not in MATRIX: say how another tenant's id reaches it"
    a, b = world.a.ids, world.b.ids
    path = endpoint.path(**path_values(endpoint, b)) if case.kind in ("path", "platform") else endpoint.path()
    body = case.body(a, b) if case.body else None
    query = case.query(a, b) if case.query else None
    if body is None and endpoint.method == "POST":
        body = {}

    with world.watch.unchanged():
        response = send(world.client(), endpoint.method, path, body=body, query=query)

    sent = path + json.dumps(body or {}) + json.dumps(query or {})
    text = response.content.decode("utf-8", "replace")
    assert _leaked(text, sent, b) == set(), f"the answer shows ids of tenant B: {text[:600]}"
    if case.kind == "path":
        codes = LEDGER_NOT_FOUND if endpoint.route.startswith("internal/ledger/") else {"not_found"}
        refusal(response, 404, codes)
    elif case.kind == "body":
        problem = refusal(response, {400, 404, 422})
        assert set(fields_named(problem)) & set(case.fields), problem
        if response.status_code == 404:
            expected = LEDGER_NOT_FOUND if endpoint.route.startswith("internal/ledger/") else {"not_found"}
            assert problem["code"] in expected, problem
    elif case.kind == "query":
        if response.status_code != 200:
            refusal(response, {400, 404})
        elif "cursor" not in query:  # a filter on B's id matches nothing of A's
            assert response.json()["data"] == [], response.json()
        # (B's cursor names a position; a page of A's own rows after it is fine: nothing of B leaked)
    elif case.kind == "listing":
        assert response.status_code == 200, response.content[:600]
        assert isinstance(response.json()["data"], list)
    elif case.kind == "stateless":
        assert response.status_code == 200, response.content[:600]
    elif case.kind == "platform":
        refusal(response, 401, "invalid_api_key")
        assert response["WWW-Authenticate"].startswith("Bearer")
    else:  # pragma: no cover - a typo in MATRIX
        pytest.fail(f"unknown case kind {case.kind}")


def test_paying_another_tenants_qr_code_goes_off_us_and_writes_nothing_in_that_tenant(world):
    """API.md: a QR of one of the tenant's own wallets settles on-us; any other goes through the QR
    Ph network. B's code, paid from A, is "any other": A must not resolve it to B's wallet."""
    body = {"wallet_id": world.a.ids["wallet_id"], "payload": world.b.ids["static_payload"], "amount": 1_000}

    before = world.watch.snapshot()
    response = send(world.client(), "POST", "/v1/qr-payments", body=body)
    changed = world.watch.changes(before)

    assert response.status_code == 201, response.content[:600]
    assert (response.json()["route"], response.json()["merchant_wallet_id"]) == ("off_us", None)
    assert _leaked(response.content.decode(), json.dumps(body), world.b.ids) == set()
    assert [table for table in changed if not table.startswith("A.")] == [], changed
