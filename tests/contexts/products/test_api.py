"""The unified product API over HTTP (API.md): every endpoint's happy path, its documented error
codes, idempotency (replay, reuse, in use), another tenant's ids (404) and missing scopes (403)."""

import base64
import uuid

import pytest
from django.db import connection, connections

from contexts.identity import kyc as identity_kyc
from finfactory.apikeys.services import api_key_create
from finfactory.idempotency.services import _lock_id
from finfactory.outbox.drain import drain
from finfactory.tenancy.context import in_tenant
from tests.factories import provision_tenant
from tests.helpers import api_client, error_fields, problem

from .conftest import writes


class Client:
    """A client product with one API key of the module's tenant."""

    def __init__(self, tenant, scopes=None):
        self.key = api_key_create(tenant=tenant, name=f"client-{uuid.uuid4().hex[:6]}", scopes=scopes)
        self.http = api_client(self.key.secret)

    def get(self, path: str, **params):
        return self.http.get(f"/v1/{path}", params)

    def post(self, path: str, body=None, *, key: str | None = "auto"):
        extra = {}
        if key == "auto":
            key = uuid.uuid4().hex
        if key is not None:
            extra["HTTP_IDEMPOTENCY_KEY"] = key
        return self.http.post(f"/v1/{path}", {} if body is None else body, format="json", **extra)

    def created(self, path: str, body=None, status: int = 201, **kwargs) -> dict:
        response = self.post(path, body, **kwargs)
        assert response.status_code == status, (response.status_code, response.content[:1000])
        return response.json()


@pytest.fixture
def client(product):
    made = Client(product)
    with in_tenant(product):  # requests leave the connection in the key's schema; tests read there too
        yield made
    connection.set_schema_to_public()


def customer(client, verified: bool = True) -> dict:
    created = client.created(
        "customers", {"first_name": "Ana", "last_name": "Reyes", "email": f"ana{uuid.uuid4().hex[:6]}@example.org"}
    )
    if verified:
        status = client.created(
            f"customers/{created['id']}/kyc",
            {"id_type": "passport", "id_number": f"P{uuid.uuid4().hex[:8]}", "level": "basic"},
            status=202,
        )
        assert status["kyc_status"] == "pending"
        identity_kyc.kyc_verify(kyc_id=_kyc_id(created["id"]), level="basic")
        drain()
    return created


def _kyc_id(customer_id: str) -> str:
    from contexts.identity import api as identity_api

    return identity_api.kyc_status(customer_id=customer_id).kyc_id


def wallet(client, balance: int = 0, verified: bool = True) -> dict:
    opened = client.created("wallets", {"customer_id": customer(client, verified)["id"], "currency": "PHP"})
    if balance:
        client.created("cash-ins", {"wallet_id": opened["id"], "amount": balance, "currency": "PHP"})
    return opened


# --- customers and KYC -----------------------------------------------------------------------------


def test_customers_are_created_read_listed_and_verified(client):
    created = client.created(
        "customers", {"first_name": "Ana", "last_name": "Reyes", "email": "ana@example.org", "phone": "+639171234567"}
    )

    assert {k: created[k] for k in ("object", "first_name", "kyc_status", "kyc_level")} == {
        "object": "customer",
        "first_name": "Ana",
        "kyc_status": "not_started",
        "kyc_level": "none",
    }
    assert client.get(f"customers/{created['id']}").json() == created
    listed = client.get("customers", limit=1).json()
    assert [c["id"] for c in listed["data"]] == [created["id"]] and listed["has_more"] is False
    kyc = client.created(f"customers/{created['id']}/kyc", {"id_type": "passport", "id_number": "P7654321"}, status=202)
    assert (kyc["object"], kyc["kyc_status"]) == ("kyc", "pending")
    assert client.get(f"customers/{created['id']}/kyc").json()["kyc_status"] == "pending"


def test_bad_customer_input_names_the_field_and_writes_nothing(client):
    before = writes()

    for body, field in [
        ({"first_name": "A", "last_name": "B"}, "email"),
        ({"first_name": "A", "last_name": "B", "email": "not-an-email"}, "email"),
        ({"first_name": "A", "last_name": "B", "email": "a@b.co", "colour": "red"}, "colour"),
    ]:
        response = client.post("customers", body)
        assert field in error_fields(problem(response, 400, "validation_error"))
    assert writes() == before


def test_an_unknown_customer_is_not_found(client):
    problem(client.get("customers/cus_00000000000000000000000000"), 404, "not_found")
    problem(
        client.post("customers/cus_00000000000000000000000000/kyc", {"id_type": "passport", "id_number": "P1234"}),
        404,
        "not_found",
    )


# --- wallets ---------------------------------------------------------------------------------------


def test_a_wallet_is_opened_read_listed_suspended_activated_and_closed(client):
    owner = customer(client)
    opened = client.created("wallets", {"customer_id": owner["id"], "currency": "PHP"})

    assert {k: opened[k] for k in ("object", "customer_id", "currency", "status", "tier")} == {
        "object": "wallet",
        "customer_id": owner["id"],
        "currency": "PHP",
        "status": "active",
        "tier": "basic",
    }
    assert client.created("wallets", {"customer_id": owner["id"], "currency": "PHP"}, status=200)["id"] == opened["id"]
    assert client.get(f"wallets/{opened['id']}").json() == opened
    assert [w["id"] for w in client.get("wallets", customer_id=owner["id"]).json()["data"]] == [opened["id"]]
    assert client.get(f"wallets/{opened['id']}/balance").json() == {
        "wallet_id": opened["id"],
        "object": "balance",
        "currency": "PHP",
        "available": 0,
        "posted": 0,
        "held": 0,
    }
    assert (
        client.created(f"wallets/{opened['id']}/suspend", {"reason": "fraud check"}, status=200)["status"]
        == "suspended"
    )
    assert client.created(f"wallets/{opened['id']}/activate", status=200)["status"] == "active"
    assert client.created(f"wallets/{opened['id']}/close", status=200)["status"] == "closed"


def test_wallet_refusals(client):
    funded = wallet(client, 1_000)

    problem(client.post(f"wallets/{funded['id']}/close"), 422, "balance_not_zero")
    problem(
        client.post("wallets", {"customer_id": customer(client)["id"], "currency": "USD"}),
        422,
        "currency_not_supported",
    )
    problem(
        client.post("wallets", {"customer_id": "cus_00000000000000000000000000", "currency": "PHP"}), 404, "not_found"
    )
    problem(client.get("wallets/wal_00000000000000000000000000/balance"), 404, "not_found")


# --- money movement ----------------------------------------------------------------------------------


def test_cash_in_transfer_and_cash_out_move_money_and_list_as_transactions(client):
    payer, payee = wallet(client, 50_000), wallet(client)

    moved = client.created(
        "transfers",
        {
            "source_wallet_id": payer["id"],
            "destination_wallet_id": payee["id"],
            "amount": 20_000,
            "currency": "PHP",
            "description": "lunch",
        },
    )
    out = client.created(
        "cash-outs", {"wallet_id": payee["id"], "amount": 5_000, "currency": "PHP", "destination": {"bank": "BPI"}}
    )

    assert (moved["object"], moved["status"], moved["transaction_id"] is not None) == ("transfer", "succeeded", True)
    assert (out["object"], out["status"], out["fee"]) == ("cash_out", "pending", 1_500)
    assert client.get(f"transfers/{moved['id']}").json()["status"] == "succeeded"
    assert client.get(f"cash-outs/{out['id']}").json()["status"] == "pending"
    assert client.get(f"wallets/{payee['id']}/balance").json()["available"] == 20_000 - 6_500
    listed = client.get("transactions", wallet_id=payer["id"]).json()["data"]
    assert [(t["type"], t["direction"], t["amount"], t["balance_after"]) for t in listed] == [
        ("transfer_out", "debit", 20_000, 30_000),
        ("cash_in", "credit", 50_000, 50_000),
    ]
    assert listed[0]["reference_id"] == moved["id"]
    assert client.get(f"transactions/{listed[0]['id']}").json() == listed[0]
    typed = client.get("transactions", wallet_id=payer["id"], type="cash_in", limit=1).json()
    assert [t["type"] for t in typed["data"]] == ["cash_in"] and typed["has_more"] is False


def test_money_movement_refusals_carry_the_api_codes_and_write_nothing(client, fraud_rule):
    payer, payee = wallet(client, 5_000), wallet(client)
    unverified = wallet(client, 1_000, verified=False)
    fraud_rule("decline", 9_000)
    cases = [
        (
            "transfers",
            {"source_wallet_id": payer["id"], "destination_wallet_id": payer["id"], "amount": 1, "currency": "PHP"},
            422,
            "same_wallet",
        ),
        (
            "transfers",
            {
                "source_wallet_id": payer["id"],
                "destination_wallet_id": payee["id"],
                "amount": 6_000,
                "currency": "PHP",
            },
            422,
            "insufficient_funds",
        ),
        (
            "transfers",
            {"source_wallet_id": payer["id"], "destination_wallet_id": payee["id"], "amount": 9_500, "currency": "PHP"},
            422,
            "risk_declined",
        ),
        ("cash-outs", {"wallet_id": unverified["id"], "amount": 100, "currency": "PHP"}, 422, "kyc_required"),
        ("cash-ins", {"wallet_id": payer["id"], "amount": 6_000_000, "currency": "PHP"}, 422, "limit_exceeded"),
        ("cash-ins", {"wallet_id": payer["id"], "amount": "100", "currency": "PHP"}, 400, "validation_error"),
        ("cash-ins", {"wallet_id": "wal_00000000000000000000000000", "amount": 1, "currency": "PHP"}, 404, "not_found"),
        ("qr-payments", {"wallet_id": payer["id"], "payload": "garbage", "amount": 1}, 422, "invalid_qr"),
    ]
    before = writes()

    for path, body, status, code in cases:
        problem(client.post(path, body), status, code)

    after = writes()
    assert {k: after[k] - before[k] for k in after} == {k: 0 for k in after}, "a refusal wrote something"


def test_money_movement_needs_an_idempotency_key_and_replays_it(client):
    target = wallet(client)
    body = {"wallet_id": target["id"], "amount": 1_000, "currency": "PHP"}

    problem(client.post("cash-ins", body, key=None), 400, "idempotency_key_required")
    first = client.post("cash-ins", body, key="cin-1")
    again = client.post("cash-ins", body, key="cin-1")
    reused = client.post("cash-ins", {**body, "amount": 2_000}, key="cin-1")

    assert (first.status_code, again.status_code, again["Idempotent-Replayed"]) == (201, 201, "true")
    assert again.json() == first.json()
    assert error_fields(problem(reused, 422, "idempotency_key_reused")) == ["amount"]
    assert client.get(f"wallets/{target['id']}/balance").json()["posted"] == 1_000


def test_a_refusal_on_the_merits_is_replayed_under_its_key(client):
    payer, payee = wallet(client, 1_000), wallet(client)
    body = {"source_wallet_id": payer["id"], "destination_wallet_id": payee["id"], "amount": 5_000, "currency": "PHP"}

    first = client.post("transfers", body, key="trf-422")
    client.post("cash-ins", {"wallet_id": payer["id"], "amount": 10_000, "currency": "PHP"}, key="cin-422")
    again = client.post("transfers", body, key="trf-422")  # funded meanwhile: the key keeps its answer

    problem(first, 422, "insufficient_funds")
    assert (problem(again, 422, "insufficient_funds"), again["Idempotent-Replayed"]) == (first.json(), "true")


def test_a_key_still_being_processed_is_in_use(client):
    target = wallet(client)
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_id(client.key.key.public_id, "busy-1")])
            response = client.post(
                "cash-ins", {"wallet_id": target["id"], "amount": 1, "currency": "PHP"}, key="busy-1"
            )
            cursor.execute("ROLLBACK")
    finally:
        other.close()

    problem(response, 409, "idempotency_key_in_use")


# --- QR Ph -------------------------------------------------------------------------------------------


def test_qr_codes_are_generated_decoded_shown_and_paid(client):
    shop, payer = wallet(client), wallet(client, 30_000)

    code = client.created(
        "qr-codes",
        {
            "wallet_id": shop["id"],
            "merchant_name": "Sari Store",
            "merchant_city": "Makati",
            "mcc": "5411",
            "amount": 12_500,
        },
    )
    decoded = client.created("qr-codes/decode", {"payload": code["payload"]}, status=200)
    image = client.get(f"qr-codes/{code['id']}/image.png")
    paid = client.created("qr-payments", {"wallet_id": payer["id"], "payload": code["payload"]})

    assert (code["object"], code["type"], code["amount"]) == ("qr_code", "dynamic", 12_500)
    assert base64.b64decode(code["image_png_base64"]).startswith(b"\x89PNG")
    assert (decoded["merchant_name"], decoded["amount"], decoded["mcc"], decoded["crc_valid"]) == (
        "Sari Store",
        12_500,
        "5411",
        True,
    )
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert (paid["object"], paid["status"], paid["route"], paid["merchant_wallet_id"]) == (
        "qr_payment",
        "confirmed",
        "on_us",
        shop["id"],
    )
    assert client.get(f"qr-payments/{paid['id']}").json()["status"] == "confirmed"
    assert client.get(f"wallets/{shop['id']}/balance").json()["posted"] == 12_500
    problem(client.post("qr-payments", {"wallet_id": payer["id"], "payload": code["payload"]}), 422, "qr_already_paid")
    problem(client.post("qr-codes/decode", {"payload": code["payload"][:-4] + "0000"}), 422, "invalid_qr")


# --- tenants and scopes --------------------------------------------------------------------------------


def test_another_tenants_ids_are_not_found(client, product):
    mine = wallet(client, 1_000)
    with in_tenant(provision_tenant("other").tenant):
        stranger = Client(connection.tenant)
        for path in (f"wallets/{mine['id']}", f"wallets/{mine['id']}/balance", f"customers/{mine['customer_id']}"):
            problem(stranger.get(path), 404, "not_found")
        problem(stranger.post("cash-ins", {"wallet_id": mine["id"], "amount": 1, "currency": "PHP"}), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("get", "customers", "customers:read"),
        ("post", "customers", "customers:write"),
        ("get", "wallets", "wallets:read"),
        ("post", "wallets", "wallets:write"),
        ("post", "cash-ins", "money:move"),
        ("post", "cash-outs", "money:move"),
        ("post", "transfers", "money:move"),
        ("post", "qr-payments", "money:move"),
        ("post", "qr-codes", "qr:write"),
        ("post", "qr-codes/decode", "qr:write"),
        ("get", "transactions", "wallets:read"),
    ],
)
def test_a_key_without_the_scope_is_forbidden(product, method, path, scope):
    narrow = Client(product, scopes=["events:read"])

    response = getattr(narrow, method)(path)

    body = problem(response, 403, "insufficient_scope")
    assert scope in body["detail"]
    connection.set_schema_to_public()
