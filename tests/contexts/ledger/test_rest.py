"""`/internal/ledger/`: the operators' HTTP endpoints over contexts.ledger.api."""

import json
import uuid

import pytest
import requests
from django.http import StreamingHttpResponse
from django.test import Client

from contexts.ledger import api, selectors
from contexts.ledger.models import Account, Hold, JournalEntry, Posting
from contexts.ledger.rest import views
from finfactory.apikeys.services import api_key_create
from finfactory.outbox.models import OutboxEvent
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant
from finfactory.tenancy.models import Domain
from tests.helpers import api_client, error_fields, problem

BASE = "/internal/ledger"


def new_ref(prefix: str = "ref") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class Ledger:
    """An operator talking to the ledger endpoints with one API key."""

    def __init__(self, secret: str):
        self.http = api_client(secret)

    def get(self, path: str, **params):
        return self.http.get(f"{BASE}/{path}", params)

    def post(self, path: str, body=None, *, key: str | None = "auto", **extra):
        if key == "auto":
            key = uuid.uuid4().hex
        if key is not None:
            extra["HTTP_IDEMPOTENCY_KEY"] = key
        return self.http.post(f"{BASE}/{path}", {} if body is None else body, format="json", **extra)

    def open(self, type: str = "liability", currency: str = "PHP", **fields) -> dict:
        response = self.post("accounts", {"type": type, "currency": currency, **fields})
        assert response.status_code == 201, response.content
        return response.json()

    def transfer(self, debit: dict, credit: dict, amount: int, **fields):
        body = {
            "external_ref": new_ref("trf"),
            "debit_account_id": debit["id"],
            "credit_account_id": credit["id"],
            "amount": amount,
            "currency": "PHP",
            **fields,
        }
        return self.post("transfers", body)

    def fund(self, float_account: dict, wallet: dict, amount: int) -> dict:
        response = self.transfer(float_account, wallet, amount)
        assert response.status_code == 201, response.content
        return response.json()


@pytest.fixture
def acme(make_tenant):
    return make_tenant("acme")


@pytest.fixture
def ops(acme):
    return Ledger(acme.api_key.secret)


@pytest.fixture
def float_account(ops):
    return ops.open("asset", name="Float")


@pytest.fixture
def wallet(ops, float_account):
    """wallet(balance) opens a PHP liability account funded from the float."""

    def make(balance: int = 0, **fields) -> dict:
        account = ops.open("liability", **fields)
        if balance:
            ops.fund(float_account, account, balance)
        return account

    return make


def ledger_state(tenant) -> tuple:
    """Everything a refused request must leave as it was: rows, balances and published events."""
    with in_tenant(tenant):
        return (
            JournalEntry.objects.count(),
            Posting.objects.count(),
            Hold.objects.count(),
            Account.objects.count(),
            OutboxEvent.objects.count(),
            sorted(Account.objects.values_list("public_id", "posted", "held", "status")),
        )


def balance(ops: Ledger, account: dict) -> dict:
    return ops.get(f"accounts/{account['id']}/balance").json()


# --- accounts ------------------------------------------------------------------------------------


def test_an_account_is_opened_read_and_listed_with_filters(ops):
    response = ops.post("accounts", {"type": "liability", "currency": "PHP", "owner_ref": "wal_1", "name": "Ana"})

    assert response.status_code == 201
    opened = response.json()
    assert opened["id"].startswith("acc_")
    assert {k: opened[k] for k in ("object", "type", "normal_balance", "status", "overdraft_limit", "posted")} == {
        "object": "ledger_account",
        "type": "liability",
        "normal_balance": "credit",
        "status": "active",
        "overdraft_limit": 0,
        "posted": 0,
    }
    assert ops.get(f"accounts/{opened['id']}").json() == opened

    ops.open("liability", owner_ref="wal_2")
    ops.open("asset", currency="USD", owner_ref="wal_1")

    by_owner = ops.get("accounts", owner_ref="wal_1").json()
    assert [a["owner_ref"] for a in by_owner["data"]] == ["wal_1", "wal_1"]
    assert by_owner["has_more"] is False
    both = ops.get("accounts", owner_ref="wal_1", currency="PHP").json()["data"]
    assert [a["id"] for a in both] == [opened["id"]]
    first = ops.get("accounts", limit="2").json()
    assert len(first["data"]) == 2 and first["has_more"] is True
    rest = ops.get("accounts", limit="2", cursor=first["next_cursor"]).json()
    assert (len(rest["data"]), rest["has_more"], rest["next_cursor"]) == (1, False, None)
    assert {a["id"] for a in first["data"] + rest["data"]} == {opened["id"], *(a["id"] for a in by_owner["data"])} | {
        a["id"] for a in ops.get("accounts", owner_ref="wal_2").json()["data"]
    }
    problem(ops.get("accounts", cursor="not-a-cursor"), 400, "invalid_cursor")


def test_account_list_filters_are_checked(ops):
    problem(ops.get("accounts", currency="php"), 400, "validation_error")
    body = problem(ops.get("accounts", limit="0"), 400, "validation_error")
    assert error_fields(body) == ["limit"]


def test_an_unknown_account_is_404_naming_it(ops):
    body = problem(ops.get("accounts/acc_00000000000000000000000000"), 404, "account_not_found")
    assert error_fields(body) == ["account_id"]
    problem(ops.get("accounts/acc_00000000000000000000000000/balance"), 404, "account_not_found")
    problem(ops.post("accounts/acc_00000000000000000000000000/freeze"), 404, "account_not_found")


def test_freeze_and_unfreeze(ops, wallet, float_account, acme):
    account = wallet(100)

    frozen = ops.post(f"accounts/{account['id']}/freeze")
    assert (frozen.status_code, frozen.json()["status"]) == (200, "frozen")
    before = ledger_state(acme.tenant)
    problem(ops.transfer(float_account, account, 5), 422, "account_not_active")
    assert ledger_state(acme.tenant) == before
    problem(ops.post(f"accounts/{account['id']}/freeze"), 409, "invalid_state")

    thawed = ops.post(f"accounts/{account['id']}/unfreeze")
    assert (thawed.status_code, thawed.json()["status"]) == (200, "active")
    assert ops.transfer(float_account, account, 5).status_code == 201


def test_operations_without_a_body_refuse_fields(ops, wallet):
    account = wallet()

    body = problem(ops.post(f"accounts/{account['id']}/freeze", {"reason": "x"}), 400, "validation_error")

    assert body["errors"] == [{"field": "reason", "message": "Unknown field.", "code": "unknown_field"}]
    assert ops.get(f"accounts/{account['id']}").json()["status"] == "active"


# --- transfers and entries ---------------------------------------------------------------------


def test_a_transfer_moves_money_and_shows_in_balances_and_postings(ops, wallet, acme):
    payer, payee = wallet(1_000), wallet()

    response = ops.transfer(payer, payee, 250, description="lunch", metadata={"order": "o-1"})

    assert response.status_code == 201
    entry = response.json()
    assert entry["object"] == "ledger_entry" and entry["kind"] == "transfer"
    assert entry["metadata"] == {"order": "o-1"}
    assert [(p["account_id"], p["direction"], p["amount"], p["balance_after"]) for p in entry["postings"]] == [
        (payer["id"], "debit", 250, 750),
        (payee["id"], "credit", 250, 250),
    ]
    assert balance(ops, payer) == {
        "object": "ledger_balance",
        "account_id": payer["id"],
        "currency": "PHP",
        "posted": 750,
        "held": 0,
        "available": 750,
        "sequence": 2,
    }
    assert ops.get(f"entries/{entry['id']}").json() == entry


def test_postings_are_paged_newest_first_with_a_cursor(ops, wallet, float_account):
    account = wallet(100)
    for amount in (1, 2, 3):
        ops.fund(float_account, account, amount)

    first = ops.get(f"accounts/{account['id']}/postings", limit="3").json()
    second = ops.get(f"accounts/{account['id']}/postings", limit="3", cursor=first["next_cursor"]).json()

    assert [p["amount"] for p in first["data"]] == [3, 2, 1]
    assert first["has_more"] is True and first["data"][0]["object"] == "ledger_posting"
    assert [p["amount"] for p in second["data"]] == [100]
    assert (second["has_more"], second["next_cursor"]) == (False, None)
    problem(ops.get(f"accounts/{account['id']}/postings", cursor="bogus"), 400, "invalid_cursor")


def test_insufficient_funds_is_422_and_writes_nothing(ops, wallet, acme):
    payer, payee = wallet(100), wallet()
    before = ledger_state(acme.tenant)

    body = problem(ops.transfer(payer, payee, 101), 422, "insufficient_funds")

    assert error_fields(body) == ["debit_account_id"]
    assert ledger_state(acme.tenant) == before


def test_a_replay_of_the_external_ref_answers_200_with_the_first_entry(ops, wallet, acme):
    payer, payee = wallet(1_000), wallet()
    body = {
        "external_ref": new_ref(),
        "debit_account_id": payer["id"],
        "credit_account_id": payee["id"],
        "amount": 100,
        "currency": "PHP",
    }
    first = ops.post("transfers", body, key="k-first")
    after_first = ledger_state(acme.tenant)

    again = ops.post("transfers", body, key="k-second")  # a new Idempotency-Key: the ledger dedupes
    replayed = ops.post("transfers", body, key="k-first")  # the same key: the kernel replays

    assert (first.status_code, again.status_code, replayed.status_code) == (201, 200, 201)
    assert again.json() == first.json() and replayed.json() == first.json()
    assert replayed["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in again
    assert ledger_state(acme.tenant) == after_first
    assert balance(ops, payer)["posted"] == 900

    reused = ops.post("transfers", {**body, "amount": 99}, key="k-third")
    assert error_fields(problem(reused, 409, "external_ref_reused")) == ["external_ref"]
    problem(ops.post("transfers", {**body, "amount": 99}, key="k-first"), 422, "idempotency_key_reused")
    assert ledger_state(acme.tenant) == after_first


@pytest.mark.parametrize("path", ["transfers", "entries", "holds"])
def test_money_movements_need_an_idempotency_key(ops, wallet, acme, path):
    before = ledger_state(acme.tenant)

    body = problem(ops.post(path, {"external_ref": new_ref()}, key=None), 400, "idempotency_key_required")

    assert error_fields(body) == ["Idempotency-Key"]
    assert ledger_state(acme.tenant) == before


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"amont": 5}, "amont", "unknown_field"),
        ({"amount": "100"}, "amount", "invalid"),
        ({"amount": 10.5}, "amount", "invalid"),
        ({"amount": 100.0}, "amount", "invalid"),
        ({"amount": True}, "amount", "invalid"),
        ({"amount": 0}, "amount", "min_value"),
        ({"amount": None}, "amount", "null"),
        ({"currency": "php"}, "currency", "invalid_currency"),
        ({"currency": "USD"}, "debit_account_id", "currency_mismatch"),
        ({"external_ref": ""}, "external_ref", "blank"),
        ({"external_ref": "x" * 201}, "external_ref", "max_length"),
        ({"debit_account_id": "wal_123"}, "debit_account_id", "invalid_account_id"),
        ({"metadata": {"rate": 1.5}}, "metadata", "invalid_number"),
        ({"metadata": ["a"]}, "metadata", "not_a_dict"),
    ],
)
def test_a_bad_transfer_is_400_naming_the_field_and_writes_nothing(ops, wallet, acme, change, field, code):
    payer, payee = wallet(1_000), wallet()
    body = {
        "external_ref": new_ref(),
        "debit_account_id": payer["id"],
        "credit_account_id": payee["id"],
        "amount": 100,
        "currency": "PHP",
        **change,
    }
    before = ledger_state(acme.tenant)

    response = ops.post("transfers", body)

    status = 422 if code == "currency_mismatch" else 400
    problem_body = problem(response, status, code if status == 422 else "validation_error")
    assert [(e["field"], e["code"]) for e in problem_body["errors"]] == [(field, code)]
    assert ledger_state(acme.tenant) == before


def test_a_missing_field_is_named(ops, acme):
    before = ledger_state(acme.tenant)

    body = problem(ops.post("transfers", {"external_ref": new_ref()}), 400, "validation_error")

    assert sorted(error_fields(body)) == ["amount", "credit_account_id", "currency", "debit_account_id"]
    assert {e["code"] for e in body["errors"]} == {"required"}
    assert ledger_state(acme.tenant) == before


def test_a_transfer_to_an_unknown_account_is_404(ops, wallet, acme):
    payer = wallet(100)
    before = ledger_state(acme.tenant)

    response = ops.transfer(payer, {"id": "acc_00000000000000000000000000"}, 10)

    assert error_fields(problem(response, 404, "account_not_found")) == ["credit_account_id"]
    assert ledger_state(acme.tenant) == before


def test_a_generic_entry_is_posted_and_read_back(ops, wallet, float_account):
    payer, merchant, fees = wallet(1_000), wallet(), ops.open("revenue", name="Fees")
    body = {
        "external_ref": new_ref("pay"),
        "postings": [
            {"account_id": payer["id"], "direction": "debit", "amount": 500, "currency": "PHP"},
            {"account_id": merchant["id"], "direction": "credit", "amount": 490, "currency": "PHP"},
            {"account_id": fees["id"], "direction": "credit", "amount": 10, "currency": "PHP"},
        ],
        "description": "Payment with fee",
        "effective_at": "2025-01-31T16:00:00Z",
    }

    response = ops.post("entries", body)

    assert response.status_code == 201
    entry = response.json()
    assert entry["kind"] == "standard" and entry["effective_at"] == "2025-01-31T16:00:00Z"
    assert [p["line"] for p in entry["postings"]] == [1, 2, 3]
    assert (balance(ops, payer)["posted"], balance(ops, merchant)["posted"], balance(ops, fees)["posted"]) == (
        500,
        490,
        10,
    )
    assert ops.get(f"entries/{entry['id']}").json() == entry
    problem(ops.get("entries/jrn_00000000000000000000000000"), 404, "entry_not_found")


@pytest.mark.parametrize(
    ("postings", "field", "code"),
    [
        ([{"account_id": "A", "direction": "debit", "amount": 5, "currency": "PHP"}], "postings", "min_length"),
        (
            [
                {"account_id": "A", "direction": "debit", "amount": 5, "currency": "PHP"},
                {"account_id": "B", "direction": "credit", "amount": "5", "currency": "PHP"},
            ],
            "postings[1].amount",
            "invalid",
        ),
        (
            [
                {"account_id": "A", "direction": "debit", "amount": 5, "currency": "PHP", "memo": "x"},
                {"account_id": "B", "direction": "credit", "amount": 5, "currency": "PHP"},
            ],
            "postings[0].memo",
            "unknown_field",
        ),
        (
            [
                {"account_id": "A", "direction": "up", "amount": 5, "currency": "PHP"},
                {"account_id": "B", "direction": "credit", "amount": 5, "currency": "PHP"},
            ],
            "postings[0].direction",
            "invalid_choice",
        ),
        (
            [
                {"account_id": "A", "direction": "debit", "amount": 5, "currency": "PHP"},
                {"account_id": "B", "direction": "credit", "amount": 4, "currency": "PHP"},
            ],
            "postings",
            "unbalanced_entry",
        ),
    ],
)
def test_a_bad_entry_is_400_naming_the_field_and_writes_nothing(ops, wallet, acme, postings, field, code):
    accounts = {"A": wallet(100)["id"], "B": wallet()["id"]}
    for posting in postings:
        posting["account_id"] = accounts[posting["account_id"]]
    before = ledger_state(acme.tenant)

    body = problem(ops.post("entries", {"external_ref": new_ref(), "postings": postings}), 400, "validation_error")

    assert [(e["field"], e["code"]) for e in body["errors"]] == [(field, code)]
    assert ledger_state(acme.tenant) == before


def test_an_entry_is_reversed_in_part_then_in_full_and_not_again(ops, wallet):
    payer, payee = wallet(1_000), wallet()
    entry = ops.transfer(payer, payee, 300).json()

    part = ops.post(f"entries/{entry['id']}/reversals", {"external_ref": new_ref("rev"), "amount": 100})
    rest_ref = new_ref("rev")
    rest = ops.post(f"entries/{entry['id']}/reversals", {"external_ref": rest_ref, "description": "the rest"})
    replay = ops.post(f"entries/{entry['id']}/reversals", {"external_ref": rest_ref, "description": "the rest"})

    assert (part.status_code, rest.status_code, replay.status_code) == (201, 201, 200)
    assert part.json()["reverses_id"] == entry["id"] and part.json()["kind"] == "reversal"
    assert [p["amount"] for p in rest.json()["postings"]] == [200, 200]
    assert replay.json()["id"] == rest.json()["id"]
    assert (balance(ops, payer)["posted"], balance(ops, payee)["posted"]) == (1_000, 0)
    problem(ops.post(f"entries/{entry['id']}/reversals", {"external_ref": new_ref()}), 422, "already_reversed")
    body = problem(
        ops.post(f"entries/{entry['id']}/reversals", {"external_ref": new_ref(), "amount": "1"}),
        400,
        "validation_error",
    )
    assert error_fields(body) == ["amount"]


# --- holds -------------------------------------------------------------------------------------


def test_a_hold_is_placed_captured_in_part_and_replayed(ops, wallet):
    payer, merchant = wallet(1_000), wallet()
    body = {
        "external_ref": new_ref("hld"),
        "account_id": payer["id"],
        "credit_account_id": merchant["id"],
        "amount": 400,
        "currency": "PHP",
    }

    created = ops.post("holds", body)

    assert created.status_code == 201
    hold = created.json()
    assert (hold["object"], hold["status"], hold["capture_entry_id"]) == ("ledger_hold", "active", None)
    assert balance(ops, payer)["available"] == 600 and balance(ops, payer)["held"] == 400
    assert ops.post("holds", body).status_code == 200
    assert ops.get(f"holds/{hold['id']}").json() == hold

    capture_ref = new_ref("cap")
    captured = ops.post(f"holds/{hold['id']}/capture", {"external_ref": capture_ref, "amount": 150})
    again = ops.post(f"holds/{hold['id']}/capture", {"external_ref": capture_ref, "amount": 150})

    assert (captured.status_code, again.status_code) == (201, 200)
    assert captured.json()["status"] == "captured" and captured.json()["captured_amount"] == 150
    assert again.json()["capture_entry_id"] == captured.json()["capture_entry_id"]
    after = balance(ops, payer)
    assert (after["posted"], after["held"], after["available"]) == (850, 0, 850)
    assert balance(ops, merchant)["posted"] == 150
    entry = ops.get(f"entries/{captured.json()['capture_entry_id']}").json()
    assert (entry["kind"], entry["hold_id"]) == ("hold_capture", hold["id"])
    problem(ops.post(f"holds/{hold['id']}/capture", {"external_ref": new_ref()}), 409, "hold_captured")


def test_a_hold_is_released_once_and_a_release_is_answered_again(ops, wallet):
    payer, merchant = wallet(500), wallet()
    hold = ops.post(
        "holds",
        {
            "external_ref": new_ref("hld"),
            "account_id": payer["id"],
            "credit_account_id": merchant["id"],
            "amount": 500,
            "currency": "PHP",
        },
    ).json()

    released = ops.post(f"holds/{hold['id']}/release")
    again = ops.post(f"holds/{hold['id']}/release")

    assert (released.status_code, again.status_code) == (200, 200)
    assert released.json()["status"] == again.json()["status"] == "released"
    assert balance(ops, payer)["available"] == 500
    problem(ops.post(f"holds/{hold['id']}/capture", {"external_ref": new_ref()}), 409, "hold_released")
    problem(ops.get("holds/hld_00000000000000000000000000"), 404, "hold_not_found")


def test_a_hold_above_the_available_balance_is_422_and_writes_nothing(ops, wallet, acme):
    payer, merchant = wallet(100), wallet()
    before = ledger_state(acme.tenant)

    response = ops.post(
        "holds",
        {
            "external_ref": new_ref("hld"),
            "account_id": payer["id"],
            "credit_account_id": merchant["id"],
            "amount": 101,
            "currency": "PHP",
        },
    )

    assert error_fields(problem(response, 422, "insufficient_funds")) == ["account_id"]
    assert ledger_state(acme.tenant) == before


def test_a_bad_capture_is_400_and_changes_nothing(ops, wallet, acme):
    payer, merchant = wallet(100), wallet()
    hold = ops.post(
        "holds",
        {
            "external_ref": new_ref("hld"),
            "account_id": payer["id"],
            "credit_account_id": merchant["id"],
            "amount": 50,
            "currency": "PHP",
        },
    ).json()
    before = ledger_state(acme.tenant)

    body = problem(
        ops.post(f"holds/{hold['id']}/capture", {"external_ref": new_ref(), "amount": 1.0}), 400, "validation_error"
    )
    over = problem(
        ops.post(f"holds/{hold['id']}/capture", {"external_ref": new_ref(), "amount": 51}), 422, "capture_exceeds_hold"
    )

    assert error_fields(body) == ["amount"] and error_fields(over) == ["amount"]
    assert ledger_state(acme.tenant) == before
    assert ops.get(f"holds/{hold['id']}").json()["status"] == "active"


# --- statements and the trial balance ----------------------------------------------------------


def read_statement(response) -> dict:
    assert response.status_code == 200, response.content
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "application/json"
    return json.loads(b"".join(response.streaming_content))


def test_the_statement_is_streamed_as_one_json_document(ops, wallet, float_account, monkeypatch):
    # Several chunks, and lines read in several batches after the view has returned.
    monkeypatch.setattr(views, "STATEMENT_CHUNK_LINES", 2)
    monkeypatch.setattr(selectors, "STATEMENT_BATCH", 2)
    account, other = wallet(1_000), wallet()
    for amount in (100, 200, 300, 50):
        assert ops.transfer(account, other, amount).status_code == 201
    ops.fund(float_account, account, 75)

    statement = read_statement(
        ops.get(f"accounts/{account['id']}/statement", start="2000-01-01T00:00:00Z", end="2100-01-01T00:00:00Z")
    )

    lines = statement["lines"]
    assert statement["object"] == "ledger_statement" and statement["currency"] == "PHP"
    assert statement["opening_balance"] == 0
    assert statement["line_count"] == len(lines) == 6
    assert [line["sequence"] for line in lines] == [1, 2, 3, 4, 5, 6]
    assert [(line["direction"], line["amount"]) for line in lines][-2:] == [("debit", 50), ("credit", 75)]
    assert statement["closing_balance"] == lines[-1]["balance_after"] == 425
    assert statement["closing_balance"] == balance(ops, account)["posted"]


def test_a_long_statement_streams_through_gunicorn(committed_tenants, api_server):
    acme = committed_tenants("stmt")
    with in_tenant(acme.tenant), acting_as("system:test", request_id="req_statement_test"):
        float_php = api.system_account(code="float", currency="PHP")
        account = api.account_open(currency="PHP", type="liability")
        for n in range(1, 1_201):
            api.transfer(
                external_ref=f"stmt-{n}", debit_account_id=float_php.id, credit_account_id=account.id, amount=n,
                currency="PHP",
            )  # fmt: skip

    response = requests.get(
        f"{api_server}{BASE}/accounts/{account.id}/statement",
        params={"start": "2000-01-01T00:00:00Z", "end": "2100-01-01T00:00:00Z"},
        headers={"Authorization": f"Bearer {acme.api_key.secret}"},
        stream=True,
        timeout=60,
    )

    assert response.status_code == 200
    assert response.headers["Transfer-Encoding"] == "chunked" and "Content-Length" not in response.headers
    statement = json.loads(b"".join(response.iter_content(chunk_size=None)))
    assert statement["line_count"] == len(statement["lines"]) == 1_200
    assert [line["sequence"] for line in statement["lines"]] == list(range(1, 1_201))
    assert statement["closing_balance"] == statement["lines"][-1]["balance_after"] == 1_200 * 1_201 // 2


def test_a_statement_period_opens_at_the_balance_before_it(ops, wallet, float_account):
    account = wallet(1_000)
    ops.fund(float_account, account, 20)
    ops.fund(float_account, account, 30)
    postings = ops.get(f"accounts/{account['id']}/postings").json()["data"]
    second = next(p for p in postings if p["sequence"] == 2)

    statement = read_statement(
        ops.get(f"accounts/{account['id']}/statement", start=second["posted_at"], end="2100-01-01T00:00:00Z")
    )
    empty = read_statement(
        ops.get(f"accounts/{account['id']}/statement", start="2000-01-01T00:00:00Z", end="2000-01-02T00:00:00Z")
    )

    assert statement["opening_balance"] == 1_000
    assert [line["amount"] for line in statement["lines"]] == [20, 30]
    assert statement["closing_balance"] == statement["lines"][-1]["balance_after"] == 1_050
    assert (empty["opening_balance"], empty["closing_balance"], empty["line_count"], empty["lines"]) == (0, 0, 0, [])


def test_a_bad_statement_period_is_400_naming_the_field(ops, wallet):
    account = wallet()
    path = f"accounts/{account['id']}/statement"

    missing = problem(ops.get(path, start="2025-01-01T00:00:00Z"), 400, "validation_error")
    garbled = problem(ops.get(path, start="yesterday", end="2025-01-01T00:00:00Z"), 400, "validation_error")
    backwards = problem(
        ops.get(path, start="2025-01-02T00:00:00Z", end="2025-01-01T00:00:00Z"), 400, "validation_error"
    )

    assert [(e["field"], e["code"]) for e in missing["errors"]] == [("end", "required")]
    assert error_fields(garbled) == ["start"]
    assert [(e["field"], e["code"]) for e in backwards["errors"]] == [("end", "invalid_range")]
    problem(
        ops.get(
            "accounts/acc_00000000000000000000000000/statement",
            start="2025-01-01T00:00:00Z",
            end="2025-01-02T00:00:00Z",
        ),
        404,
        "account_not_found",
    )


def test_the_trial_balance_is_balanced_per_currency(ops, wallet, float_account):
    payer, payee = wallet(1_000), wallet()
    ops.transfer(payer, payee, 250)
    usd_float, usd_wallet = ops.open("asset", currency="USD"), ops.open("liability", currency="USD")
    ops.post(
        "transfers",
        {
            "external_ref": new_ref(),
            "debit_account_id": usd_float["id"],
            "credit_account_id": usd_wallet["id"],
            "amount": 70,
            "currency": "USD",
        },
    )

    report = ops.get("trial-balance").json()

    assert report["object"] == "ledger_trial_balance" and report["balanced"] is True
    assert report["data"] == [
        {"currency": "PHP", "debit_normal_total": 1_000, "credit_normal_total": 1_000, "difference": 0, "accounts": 3},
        {"currency": "USD", "debit_normal_total": 70, "credit_normal_total": 70, "difference": 0, "accounts": 2},
    ]


# --- scopes, routing and the schema ------------------------------------------------------------


def test_reading_needs_ledger_read_and_writing_ledger_write(ops, acme, wallet):
    account = wallet(100)
    reader = Ledger(api_key_create(tenant=acme.tenant, name="reader", scopes=["ledger:read"]).secret)
    stranger = Ledger(api_key_create(tenant=acme.tenant, name="wallets", scopes=["wallets:read", "money:move"]).secret)
    before = ledger_state(acme.tenant)

    assert reader.get(f"accounts/{account['id']}").status_code == 200
    assert reader.get("trial-balance").status_code == 200
    for response in (
        reader.post("accounts", {"type": "asset", "currency": "PHP"}),
        reader.post("transfers", {"external_ref": new_ref()}),
        reader.post(f"accounts/{account['id']}/freeze"),
        stranger.get(f"accounts/{account['id']}"),
        stranger.get("trial-balance"),
        stranger.get(f"accounts/{account['id']}/statement", start="2000-01-01T00:00:00Z", end="2100-01-01T00:00:00Z"),
        stranger.post("entries", {"external_ref": new_ref()}),
    ):
        body = problem(response, 403, "insufficient_scope")
        assert "ledger:" in body["detail"]
    assert ledger_state(acme.tenant) == before


def test_without_a_key_the_ledger_is_401(acme):
    problem(api_client().get(f"{BASE}/trial-balance"), 401, "not_authenticated")


def test_the_key_decides_the_tenant_on_any_host(ops, acme, make_tenant, wallet):
    account = wallet(100)
    Domain.objects.create(domain="acme.localhost", tenant=acme.tenant, is_primary=True)
    other = Ledger(make_tenant("globex").api_key.secret)
    path = f"{BASE}/accounts/{account['id']}"

    for host in ("acme.localhost", "api.example.com"):  # the tenant's URL configuration, then the public one
        assert ops.http.get(path, HTTP_HOST=host).json()["id"] == account["id"]
        problem(other.http.get(path, HTTP_HOST=host), 404, "account_not_found")
    assert other.get("trial-balance").json()["data"] == []


def test_the_schema_documents_every_ledger_operation(db):
    schema = json.loads(Client().get("/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)
    operations = {
        (path, method): op
        for path, item in schema["paths"].items()
        if path.startswith(f"{BASE}/")
        for method, op in item.items()
    }

    assert len(operations) == 17
    for (path, method), op in operations.items():
        assert op["tags"] == ["ledger"], path
        assert op["security"] == [{"ApiKey": []}], path
        headers = {p["name"]: p.get("required", False) for p in op.get("parameters", []) if p["in"] == "header"}
        if method == "post" and path.rsplit("/", 1)[-1] in ("entries", "reversals", "transfers", "holds", "capture"):
            assert headers == {"Idempotency-Key": True}, path
    statement = operations[(f"{BASE}/accounts/{{account_id}}/statement", "get")]
    assert "streamed" in statement["description"]
    assert {p["name"] for p in statement["parameters"]} == {"account_id", "start", "end"}
    assert statement["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/StatementOut")
