"""Statements and posting pages come from stored balance_after, in constant memory."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contexts.ledger import api, selectors
from finfactory.errors import InvalidInput

from .conftest import ref


def test_a_statement_has_opening_lines_and_closing_for_its_period(wallet):
    account, other = wallet(), wallet(100_000)
    api.transfer(
        external_ref=ref(), debit_account_id=other.id, credit_account_id=account.id, amount=1_000, currency="PHP"
    )
    middle = []
    for amount in (200, 300, 400):
        middle.append(
            api.transfer(
                external_ref=ref(),
                debit_account_id=other.id,
                credit_account_id=account.id,
                amount=amount,
                currency="PHP",
            )
        )
    last = api.transfer(
        external_ref=ref(), debit_account_id=account.id, credit_account_id=other.id, amount=50, currency="PHP"
    )

    statement = api.account_statement(account_id=account.id, start=middle[0].posted_at, end=last.posted_at)
    lines = list(statement.lines)

    assert (statement.opening_balance, statement.closing_balance, statement.line_count) == (1_000, 1_900, 3)
    assert [(line.amount, line.direction, line.balance_after) for line in lines] == [
        (200, "credit", 1_200),
        (300, "credit", 1_500),
        (400, "credit", 1_900),
    ]
    assert lines[-1].balance_after == statement.closing_balance
    everything = api.account_statement(
        account_id=account.id, start=last.posted_at - timedelta(days=1), end=last.posted_at + timedelta(seconds=1)
    )
    assert (everything.opening_balance, everything.closing_balance, everything.line_count) == (0, 1_850, 5)
    empty = api.account_statement(
        account_id=account.id, start=last.posted_at + timedelta(days=1), end=last.posted_at + timedelta(days=2)
    )
    assert (empty.opening_balance, empty.closing_balance, list(empty.lines)) == (1_850, 1_850, [])
    with pytest.raises(InvalidInput):
        api.account_statement(account_id=account.id, start=last.posted_at, end=last.posted_at)


def test_statement_lines_are_read_in_fixed_batches(wallet, monkeypatch):
    account, other = wallet(), wallet(100_000)
    for _ in range(7):
        api.transfer(
            external_ref=ref(), debit_account_id=other.id, credit_account_id=account.id, amount=1, currency="PHP"
        )
    monkeypatch.setattr(selectors, "STATEMENT_BATCH", 3)
    statement = api.account_statement(
        account_id=account.id,
        start=api.account_get(account_id=account.id).created_at,
        end=api.account_get(account_id=account.id).created_at + timedelta(days=1),
    )
    with CaptureQueriesContext(connection) as queries:
        balances = [line.balance_after for line in statement.lines]
    assert balances == [1, 2, 3, 4, 5, 6, 7]
    assert len([q for q in queries.captured_queries if "ledger_posting" in q["sql"]]) == 3  # 3 + 3 + 1


def test_postings_page_newest_first_with_a_cursor(wallet):
    account, other = wallet(), wallet(100_000)
    for amount in range(1, 6):
        api.transfer(
            external_ref=ref(), debit_account_id=other.id, credit_account_id=account.id, amount=amount, currency="PHP"
        )
    first = api.postings_list(account_id=account.id, limit=2)
    second = api.postings_list(account_id=account.id, limit=2, cursor=first.next_cursor)
    third = api.postings_list(account_id=account.id, limit=2, cursor=second.next_cursor)
    assert [p.amount for page in (first, second, third) for p in page.items] == [5, 4, 3, 2, 1]
    assert third.next_cursor is None
    with pytest.raises(InvalidInput) as caught:
        api.postings_list(account_id=account.id, cursor="garbage!")
    assert caught.value.code == "invalid_cursor"
