"""ledger_verify: the chain, every entry, every balance and the trial balance, recomputed."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from contexts.ledger import api
from contexts.ledger.verify import ledger_verify

from .conftest import ref


@pytest.fixture
def history(wallet):
    payer, payee = wallet(10_000), wallet()
    entries = [
        api.transfer(
            external_ref=ref(),
            debit_account_id=payer.id,
            credit_account_id=payee.id,
            amount=amount,
            currency="PHP",
            metadata={"n": amount},
        )
        for amount in (100, 200, 300)
    ]
    hold = api.hold_create(
        external_ref=ref(), account_id=payer.id, credit_account_id=payee.id, amount=50, currency="PHP"
    )
    api.hold_capture(hold_id=hold.id, external_ref=ref(), amount=20)
    api.entry_reverse(entry_id=entries[0].id, external_ref=ref(), amount=40)
    return {"payer": payer, "payee": payee, "entries": entries}


def tamper(sql: str, params=()) -> None:
    """Change history behind the ledger's back: triggers off (as a superuser could), then on."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        cursor.execute("SET LOCAL session_replication_role = origin")


def test_a_sound_ledger_verifies_clean(history, ledger):
    report = ledger_verify()
    assert report.ok, report.problems
    assert (report.entries_checked, report.chain_head_seq, report.trial_balance) == (6, 6, {"PHP": 0})
    out = StringIO()
    call_command("ledger_verify", tenant=ledger.slug, stdout=out)
    assert "6 entries chained (head #6)" in out.getvalue() and "OK" in out.getvalue()


def test_an_altered_posting_amount_is_reported(history, ledger):
    entry = history["entries"][1]
    tamper(
        "UPDATE ledger_posting SET amount = amount + 1 WHERE line = 1"
        " AND entry_id = (SELECT id FROM ledger_journalentry WHERE public_id = %s)",
        [entry.id],
    )
    problems = ledger_verify().problems
    assert f"chain: {entry.id} (#3) does not match its hash (altered entry or postings)" in problems
    assert any(p.startswith(f"entry {entry.id} is unbalanced in PHP") for p in problems)
    assert any(p.startswith(f"balance: {history['payer'].id} stores") for p in problems)
    out = StringIO()
    with pytest.raises(CommandError, match="ledger discrepancies"):
        call_command("ledger_verify", tenant=ledger.slug, stdout=out)
    assert "DISCREPANCIES" in out.getvalue() and entry.id in out.getvalue()


def test_a_deleted_posting_is_reported(history):
    entry = history["entries"][2]
    tamper(
        "DELETE FROM ledger_posting WHERE line = 2"
        " AND entry_id = (SELECT id FROM ledger_journalentry WHERE public_id = %s)",
        [entry.id],
    )
    problems = ledger_verify().problems
    assert any(p.startswith(f"chain: {entry.id}") for p in problems)
    assert f"entry {entry.id} has 1 posting(s); at least 2 are required" in problems
    assert any(p.startswith(f"sequence: {history['payee'].id}") for p in problems)


def test_a_deleted_entry_is_reported_as_a_gap_in_the_chain(history):
    entry = history["entries"][1]
    tamper(
        "DELETE FROM ledger_posting WHERE entry_id = (SELECT id FROM ledger_journalentry WHERE public_id = %s)",
        [entry.id],
    )
    tamper("DELETE FROM ledger_journalentry WHERE public_id = %s", [entry.id])
    problems = ledger_verify().problems
    assert any(p.startswith("chain: entries 3..3 are missing before") for p in problems)
    assert any("does not follow the previous entry's hash" in p for p in problems)
    assert any(p.startswith("balance: ") for p in problems)


def test_removing_the_last_entry_is_caught_by_the_chain_head(history):
    tamper(
        "DELETE FROM ledger_posting"
        " WHERE entry_id = (SELECT id FROM ledger_journalentry ORDER BY chain_seq DESC LIMIT 1)"
    )
    tamper("DELETE FROM ledger_journalentry WHERE chain_seq = (SELECT max(chain_seq) FROM ledger_journalentry)")
    problems = ledger_verify().problems
    assert any(p.startswith("chain: the head records entry #6 but the chain ends at #5") for p in problems)


def test_altered_metadata_and_a_rewritten_balance_are_reported(history):
    entry = history["entries"][0]
    tamper("UPDATE ledger_journalentry SET metadata = '{\"n\": 999}' WHERE public_id = %s", [entry.id])
    tamper("UPDATE ledger_account SET posted = posted + 5 WHERE public_id = %s", [history["payee"].id])
    problems = ledger_verify().problems
    assert f"chain: {entry.id} (#2) does not match its hash (altered entry or postings)" in problems
    assert any(p.startswith(f"balance: {history['payee'].id} stores") for p in problems)
    assert "trial balance: PHP debit-normal - credit-normal balances = -5, not 0" in problems


def test_a_tampered_held_amount_is_reported(history):
    tamper("UPDATE ledger_account SET held = held + 7 WHERE public_id = %s", [history["payer"].id])
    assert any(p.startswith(f"held: {history['payer'].id} stores 7 held") for p in ledger_verify().problems)
