"""ledger_verify: every hash and chain link, every entry, every balance and the trial balance, recomputed."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from contexts.ledger import api
from contexts.ledger.sealing import chain_seal
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
    chain_seal()
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
    assert (report.entries_checked, report.postings_checked, report.links_checked) == (6, 12, 12)
    assert (report.entries_sealed, report.chain_head_seq, report.awaiting_seal) == (6, 6, 0)
    assert report.trial_balance == {"PHP": 0}
    out = StringIO()
    call_command("ledger_verify", tenant=ledger.slug, stdout=out)
    assert "6 entries (6 sealed, head #6, 0 awaiting their seal)" in out.getvalue()
    assert "12 postings (12 chain links)" in out.getvalue()
    assert "OK" in out.getvalue()


def test_an_altered_posting_amount_is_reported(history, ledger):
    entry = history["entries"][1]
    tamper(
        "UPDATE ledger_posting SET amount = amount + 1 WHERE line = 1"
        " AND entry_id = (SELECT id FROM ledger_journalentry WHERE public_id = %s)",
        [entry.id],
    )
    problems = ledger_verify().problems
    assert f"entry {entry.id} does not match its hash (altered entry or postings)" in problems
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
    assert f"entry {entry.id} does not match its hash (altered entry or postings)" in problems
    assert f"entry {entry.id} has 1 posting(s); at least 2 are required" in problems
    # The payee's next posting no longer follows the one before it.
    assert any(p.startswith(f"chain: {history['payee'].id} posting #") for p in problems)
    assert any(p.startswith(f"sequence: {history['payee'].id}") for p in problems)


def test_a_deleted_entry_breaks_the_chain_of_every_account_it_touched(history):
    entry = history["entries"][1]
    tamper(
        "DELETE FROM ledger_posting WHERE entry_id = (SELECT id FROM ledger_journalentry WHERE public_id = %s)",
        [entry.id],
    )
    tamper("DELETE FROM ledger_journalentry WHERE public_id = %s", [entry.id])
    problems = ledger_verify().problems
    for account in (history["payer"], history["payee"]):
        assert any(p.startswith(f"chain: {account.id} posting #") for p in problems)
        assert any(p.startswith(f"sequence: {account.id}") for p in problems)
    assert any(p.startswith("balance: ") for p in problems)


def test_removing_the_last_entry_is_caught_by_the_account_heads(history):
    last = "(SELECT max(id) FROM ledger_journalentry)"
    tamper(f"DELETE FROM ledger_posting WHERE entry_id = {last}")
    tamper(f"DELETE FROM ledger_journalentry WHERE id = {last}")
    problems = ledger_verify().problems
    for account in (history["payer"], history["payee"]):
        assert (
            f"chain: {account.id} records a head that is not its last posting's hash (postings removed from the end?)"
            in problems
        )


def test_a_posting_whose_entry_was_removed_is_reported(history):
    entry = history["entries"][0]
    tamper("DELETE FROM ledger_journalentry WHERE public_id = %s", [entry.id])
    problems = ledger_verify().problems
    assert any(p.startswith(f"chain: {history['payer'].id} posting #") and "no longer exists" in p for p in problems)


def test_altered_metadata_and_a_rewritten_balance_are_reported(history):
    entry = history["entries"][0]
    tamper("UPDATE ledger_journalentry SET metadata = '{\"n\": 999}' WHERE public_id = %s", [entry.id])
    tamper("UPDATE ledger_account SET posted = posted + 5 WHERE public_id = %s", [history["payee"].id])
    problems = ledger_verify().problems
    assert f"entry {entry.id} does not match its hash (altered entry or postings)" in problems
    assert any(p.startswith(f"balance: {history['payee'].id} stores") for p in problems)
    assert "trial balance: PHP debit-normal - credit-normal balances = -5, not 0" in problems


def test_a_tampered_held_amount_is_reported(history):
    tamper("UPDATE ledger_account SET held = held + 7 WHERE public_id = %s", [history["payer"].id])
    assert any(p.startswith(f"held: {history['payer'].id} stores 7 held") for p in ledger_verify().problems)


def test_entries_awaiting_their_seal_are_counted_not_reported(history, wallet):
    wallet(5)  # one more entry, not sealed yet
    report = ledger_verify()
    assert report.ok, report.problems
    assert (report.entries_checked, report.entries_sealed, report.awaiting_seal) == (7, 6, 1)


def test_an_entry_rewritten_with_a_recomputed_hash_breaks_its_seal(history):
    entry = history["entries"][1]
    tamper(
        "UPDATE ledger_journalentry SET description = 'edited', hash = %s WHERE public_id = %s", ["f" * 64, entry.id]
    )
    problems = ledger_verify().problems
    assert f"entry {entry.id} does not match its hash (altered entry or postings)" in problems
    assert f"chain: seal #3 does not match entry {entry.id}'s hash (entry altered after sealing)" in problems


def test_a_removed_seal_is_reported_as_a_gap(history):
    tamper("DELETE FROM ledger_entryseal WHERE seq = 3")
    problems = ledger_verify().problems
    assert "chain: seals #3..#3 are missing" in problems
    assert "chain: seal #4 does not follow the previous seal (a seal removed or inserted)" in problems
    assert any(
        p.startswith("chain: entry ") and p.endswith("is neither sealed nor awaiting its seal") for p in problems
    )


def test_removing_the_last_seal_is_caught_by_the_chain_head(history):
    tamper("DELETE FROM ledger_entryseal WHERE seq = 6")
    problems = ledger_verify().problems
    assert "chain: the head records seal #6 but the chain ends at #5 (seals removed?)" in problems
