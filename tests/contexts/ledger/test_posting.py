"""Posting: transfers and generic entries, idempotency, rules, failure paths and immutability."""

from datetime import UTC, datetime

import pytest
from django.db import DatabaseError, connection, transaction

from contexts.ledger import api
from contexts.ledger.api import Line
from contexts.ledger.api import Line as L
from contexts.ledger.models import Account, JournalEntry, Posting
from finfactory.errors import BusinessRuleViolation, Conflict, InvalidInput, NotFound
from finfactory.events.catalog import validate_payload
from finfactory.outbox.models import OutboxEvent

from .conftest import ref


def written() -> tuple[int, int, int]:
    return JournalEntry.objects.count(), Posting.objects.count(), OutboxEvent.objects.count()


def balances() -> dict[str, tuple[int, int]]:
    return {a.public_id: (a.posted, a.held) for a in Account.objects.all()}


def test_a_transfer_posts_a_balanced_chained_entry_and_its_events(wallet, float_account):
    payer, payee = wallet(10_000), wallet()
    before = OutboxEvent.objects.count()

    entry = api.transfer(
        external_ref="p2p-1", debit_account_id=payer.id, credit_account_id=payee.id, amount=2_550, currency="PHP",
        description="Dinner", metadata={"order": "o-1", "items": [1, 2]},
    )  # fmt: skip

    assert entry.id.startswith("jrn_") and len(entry.hash) == 64 and not entry.replayed
    assert [(p.account_id, p.direction, p.amount, p.sequence, p.balance_after) for p in entry.postings] == [
        (payer.id, "debit", 2_550, 2, 7_450),
        (payee.id, "credit", 2_550, 1, 2_550),
    ]
    assert api.balance_get(account_id=payer.id).available == 7_450
    assert api.balance_get(account_id=payee.id).posted == 2_550
    assert api.entry_get(entry_id=entry.id) == entry
    events = list(OutboxEvent.objects.order_by("id")[before:])
    assert [(e.type, e.aggregate_id) for e in events] == [
        ("journal.posted", entry.id),
        ("balance.updated", payer.id),
        ("balance.updated", payee.id),
    ]
    for event in events:
        validate_payload(event.type, event.data)  # built in SQL: must still satisfy the contract
    assert events[0].data["postings"][0]["balance_after"] == 7_450
    assert {e.data["account_id"]: e.data["available"] for e in events[1:]} == {payer.id: 7_450, payee.id: 2_550}
    assert all(e.request_id == "req_ledger_test" and e.actor == "system:test" for e in events)


def test_the_same_reference_and_request_returns_the_first_entry_and_moves_nothing(wallet):
    payer, payee = wallet(5_000), wallet()
    kwargs = {"debit_account_id": payer.id, "credit_account_id": payee.id, "amount": 1_000, "currency": "PHP"}
    first = api.transfer(external_ref="once", **kwargs)
    state = written(), balances()

    again = api.transfer(external_ref="once", **kwargs)

    assert again.replayed and again.id == first.id and again.postings == first.postings
    assert (written(), balances()) == state


def test_the_same_reference_with_a_different_request_is_refused(wallet):
    payer, payee = wallet(5_000), wallet()
    api.transfer(external_ref="dup", debit_account_id=payer.id, credit_account_id=payee.id, amount=1, currency="PHP")
    state = written(), balances()

    with pytest.raises(Conflict) as caught:
        api.transfer(
            external_ref="dup", debit_account_id=payer.id, credit_account_id=payee.id, amount=2, currency="PHP"
        )

    assert caught.value.code == "external_ref_reused"
    assert [e.field for e in caught.value.errors] == ["external_ref"]
    assert (written(), balances()) == state


def test_a_wallet_cannot_go_below_zero_and_nothing_is_written(wallet):
    payer, payee = wallet(1_000), wallet()
    state = written(), balances()

    with pytest.raises(BusinessRuleViolation) as caught:
        api.transfer(
            external_ref=ref(), debit_account_id=payer.id, credit_account_id=payee.id, amount=1_001, currency="PHP"
        )

    assert caught.value.code == "insufficient_funds"
    assert caught.value.extra == {"account_id": payer.id}
    assert [e.field for e in caught.value.errors] == ["debit_account_id"]
    assert (written(), balances()) == state


def test_an_overdraft_limit_lets_a_wallet_go_negative_down_to_the_limit(wallet):
    payer, payee = wallet(100, overdraft_limit=500), wallet()
    api.transfer(external_ref=ref(), debit_account_id=payer.id, credit_account_id=payee.id, amount=600, currency="PHP")
    assert api.balance_get(account_id=payer.id).posted == -500

    with pytest.raises(BusinessRuleViolation, match="insufficient"):
        api.transfer(
            external_ref=ref(), debit_account_id=payer.id, credit_account_id=payee.id, amount=1, currency="PHP"
        )


def test_a_maximum_balance_refuses_the_credit_that_would_pass_it(wallet):
    payer, capped = wallet(10_000), wallet(max_balance=5_000)
    api.transfer(
        external_ref=ref(), debit_account_id=payer.id, credit_account_id=capped.id, amount=5_000, currency="PHP"
    )
    with pytest.raises(BusinessRuleViolation) as caught:
        api.transfer(
            external_ref=ref(), debit_account_id=payer.id, credit_account_id=capped.id, amount=1, currency="PHP"
        )
    assert caught.value.code == "max_balance_exceeded"
    assert [e.field for e in caught.value.errors] == ["credit_account_id"]


def test_a_multi_currency_entry_balances_per_currency_without_conversion(ledger):
    php_float = api.system_account(code="float", currency="PHP")
    usd_float = api.system_account(code="float", currency="USD")
    php = api.account_open(currency="PHP", type="liability")
    usd = api.account_open(currency="USD", type="liability")

    entry = api.entry_post(
        external_ref="fx-funding",
        postings=[
            Line(php_float.id, "debit", 5_600, "PHP"),
            Line(php.id, "credit", 5_600, "PHP"),
            Line(usd_float.id, "debit", 100, "USD"),
            Line(usd.id, "credit", 100, "USD"),
        ],
        effective_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )

    assert entry.effective_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC) and entry.posted_at > entry.effective_at
    assert {r.currency: r.difference for r in api.trial_balance()} == {"PHP": 0, "USD": 0}
    assert (api.balance_get(account_id=php.id).posted, api.balance_get(account_id=usd.id).posted) == (5_600, 100)


@pytest.mark.parametrize(
    ("postings", "field", "code"),
    [
        ([L("acc_a", "debit", 100, "PHP"), L("acc_b", "credit", 100, "USD")], "postings", "unbalanced_entry"),
        ([L("acc_a", "debit", 100, "PHP")], "postings", "too_few_postings"),
        ([L("acc_a", "debit", 1.5, "PHP"), L("acc_b", "credit", 1.5, "PHP")], "postings[0].amount", "invalid_amount"),
        ([L("acc_a", "debit", 0, "PHP"), L("acc_b", "credit", 0, "PHP")], "postings[0].amount", "amount_out_of_range"),
        ([L("acc_a", "debit", True, "PHP"), L("acc_b", "credit", 1, "PHP")], "postings[0].amount", "invalid_amount"),
        ([L("acc_a", "debit", 1, "php"), L("acc_b", "credit", 1, "php")], "postings[0].currency", "invalid_currency"),
        ([L("acc_a", "debit", 1, "XAU"), L("acc_b", "credit", 1, "XAU")], "postings[0].currency", "invalid_currency"),
        ([L("acc_a", "up", 1, "PHP"), L("acc_b", "credit", 1, "PHP")], "postings[0].direction", "invalid_direction"),
        ([L("a", "debit", 1, "PHP"), L("acc_b", "credit", 1, "PHP")], "postings[0].account_id", "invalid_account_id"),
    ],
)  # fmt: skip
def test_malformed_entries_are_refused_before_anything_is_written(ledger, postings, field, code):
    state = written()
    with pytest.raises(InvalidInput) as caught:
        api.entry_post(external_ref=ref(), postings=postings)
    assert [(e.field, e.code) for e in caught.value.errors] == [(field, code)]
    assert written() == state


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [
        ({"external_ref": ""}, "external_ref", "required"),
        ({"external_ref": "x" * 201}, "external_ref", "too_long"),
        ({"description": "nul\x00byte"}, "description", "invalid_characters"),
        ({"metadata": {"rate": 1.5}}, "metadata", "invalid_number"),
        ({"metadata": ["not", "an", "object"]}, "metadata", "invalid_type"),
        ({"metadata": {"k": "v" * 5000}}, "metadata", "too_large"),
        ({"amount": -5}, "amount", "amount_out_of_range"),
        ({"amount": 10**16}, "amount", "amount_out_of_range"),
        ({"currency": "ZZZ"}, "currency", "invalid_currency"),
    ],
)
def test_malformed_transfers_name_the_field_and_write_nothing(wallet, kwargs, field, code):
    payer, payee = wallet(1_000), wallet()
    request = {
        "external_ref": ref(), "debit_account_id": payer.id, "credit_account_id": payee.id, "amount": 10,
        "currency": "PHP", **kwargs,
    }  # fmt: skip
    state = written(), balances()
    with pytest.raises(InvalidInput) as caught:
        api.transfer(**request)
    assert [(e.field, e.code) for e in caught.value.errors] == [(field, code)]
    assert (written(), balances()) == state


def test_unknown_accounts_and_wrong_currencies_are_refused_with_the_field(wallet):
    payer = wallet(1_000)
    usd = api.account_open(currency="USD", type="liability")
    state = written(), balances()

    with pytest.raises(NotFound) as missing:
        api.transfer(
            external_ref=ref(), debit_account_id=payer.id, credit_account_id="acc_" + "0" * 26, amount=1,
            currency="PHP",
        )  # fmt: skip
    with pytest.raises(BusinessRuleViolation) as mismatch:
        api.transfer(external_ref=ref(), debit_account_id=payer.id, credit_account_id=usd.id, amount=1, currency="PHP")

    assert (missing.value.code, [e.field for e in missing.value.errors]) == ("account_not_found", ["credit_account_id"])
    assert (mismatch.value.code, [e.field for e in mismatch.value.errors]) == (
        "currency_mismatch",
        ["credit_account_id"],
    )
    assert (written(), balances()) == state


def test_a_frozen_account_takes_no_postings_until_unfrozen_and_closing_needs_zero(wallet):
    payer, payee = wallet(1_000), wallet()
    api.account_freeze(account_id=payee.id)
    with pytest.raises(BusinessRuleViolation) as caught:
        api.transfer(
            external_ref=ref(), debit_account_id=payer.id, credit_account_id=payee.id, amount=1, currency="PHP"
        )
    assert caught.value.code == "account_not_active"
    with pytest.raises(Conflict):
        api.account_freeze(account_id=payee.id)

    api.account_unfreeze(account_id=payee.id)
    api.transfer(external_ref=ref(), debit_account_id=payer.id, credit_account_id=payee.id, amount=1, currency="PHP")
    with pytest.raises(BusinessRuleViolation, match="zero balance"):
        api.account_close(account_id=payee.id)
    assert api.account_close(account_id=wallet().id).status == "closed"


def test_system_accounts_are_created_once_per_currency(ledger):
    first = api.system_account(code="fees", currency="PHP")
    assert api.system_account(code="fees", currency="PHP") == first
    assert api.system_account(code="fees", currency="USD").id != first.id
    assert (first.type, first.normal_balance, first.overdraft_limit) == ("revenue", "credit", None)
    with pytest.raises(InvalidInput):
        api.system_account(code="petty_cash", currency="PHP")


def test_limits_cannot_be_set_below_the_current_balance(wallet):
    account = wallet(1_000)
    with pytest.raises(BusinessRuleViolation) as caught:
        api.account_set_limits(account_id=account.id, overdraft_limit=0, max_balance=999)
    assert [e.field for e in caught.value.errors] == ["max_balance"]
    assert api.account_set_limits(account_id=account.id, overdraft_limit=50, max_balance=2_000).max_balance == 2_000


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_posting SET amount = amount + 1",
        "DELETE FROM ledger_posting",
        "TRUNCATE ledger_posting CASCADE",
        "UPDATE ledger_journalentry SET description = 'rewritten'",
        "DELETE FROM ledger_journalentry",
        "TRUNCATE ledger_journalentry CASCADE",
    ],
)
def test_posted_history_is_immutable_in_the_database(wallet, statement):
    wallet(1_000)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # fire the test transaction's deferred FK checks now
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
