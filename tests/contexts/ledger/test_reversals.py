"""Reversals: a new, opposite entry pointing at the original; full once, partial bounded."""

import pytest

from contexts.ledger import api
from contexts.ledger.api import Line
from contexts.ledger.models import JournalEntry
from finfactory.errors import BusinessRuleViolation, Conflict
from finfactory.outbox.models import OutboxEvent

from .conftest import ref


def pay(payer, payee, amount):
    return api.transfer(
        external_ref=ref("pay"), debit_account_id=payer.id, credit_account_id=payee.id, amount=amount, currency="PHP"
    )


def test_a_full_reversal_restores_both_balances_and_happens_once(wallet):
    payer, payee = wallet(10_000), wallet()
    original = pay(payer, payee, 3_000)

    reversal = api.entry_reverse(entry_id=original.id, external_ref="rev-1")

    assert (reversal.kind, reversal.reverses_id) == ("reversal", original.id)
    assert [(p.account_id, p.direction, p.amount) for p in reversal.postings] == [
        (payer.id, "credit", 3_000),
        (payee.id, "debit", 3_000),
    ]
    assert (api.balance_get(account_id=payer.id).posted, api.balance_get(account_id=payee.id).posted) == (10_000, 0)
    event = OutboxEvent.objects.get(type="transaction.reversed")
    assert event.aggregate_id == original.id
    assert (event.data["reversal_entry_id"], event.data["full"], event.data["fully_reversed"]) == (
        reversal.id,
        True,
        True,
    )
    assert api.entry_reverse(entry_id=original.id, external_ref="rev-1").replayed
    with pytest.raises(BusinessRuleViolation) as caught:
        api.entry_reverse(entry_id=original.id, external_ref="rev-2")
    assert caught.value.code == "already_reversed"
    assert JournalEntry.objects.filter(reverses__public_id=original.id).count() == 1


def test_partial_reversals_are_tracked_and_bounded_by_the_original(wallet):
    payer, payee = wallet(10_000), wallet()
    original = pay(payer, payee, 3_000)

    api.entry_reverse(entry_id=original.id, external_ref=ref(), amount=1_000)
    api.entry_reverse(entry_id=original.id, external_ref=ref(), amount=1_500)
    with pytest.raises(BusinessRuleViolation) as too_much:
        api.entry_reverse(entry_id=original.id, external_ref=ref(), amount=501)
    rest = api.entry_reverse(entry_id=original.id, external_ref=ref())

    assert too_much.value.code == "reversal_exceeds_original"
    assert [e.field for e in too_much.value.errors] == ["amount"]
    assert rest.postings[0].amount == 500
    assert api.balance_get(account_id=payee.id).posted == 0
    with pytest.raises(BusinessRuleViolation, match="already reversed"):
        api.entry_reverse(entry_id=original.id, external_ref=ref(), amount=1)


def test_a_reversal_cannot_overdraw_the_account_it_takes_back_from(wallet):
    payer, payee, other = wallet(10_000), wallet(), wallet()
    original = pay(payer, payee, 3_000)
    pay(payee, other, 2_500)
    with pytest.raises(BusinessRuleViolation) as caught:
        api.entry_reverse(entry_id=original.id, external_ref=ref())
    assert caught.value.code == "insufficient_funds"
    assert api.entry_reverse(entry_id=original.id, external_ref=ref(), amount=500).postings[0].amount == 500


def test_reversals_of_reversals_and_partial_reversals_of_split_entries_are_refused(ledger, wallet, float_account):
    a, b = wallet(), wallet()
    split = api.entry_post(
        external_ref="split",
        postings=[Line(float_account.id, "debit", 300, "PHP"), Line(a.id, "credit", 100, "PHP"),
                  Line(b.id, "credit", 200, "PHP")],
    )  # fmt: skip
    with pytest.raises(BusinessRuleViolation) as partial:
        api.entry_reverse(entry_id=split.id, external_ref=ref(), amount=50)
    reversal = api.entry_reverse(entry_id=split.id, external_ref=ref())
    with pytest.raises(BusinessRuleViolation) as nested:
        api.entry_reverse(entry_id=reversal.id, external_ref=ref())
    assert (partial.value.code, nested.value.code) == ("partial_reversal_unsupported", "reversal_not_reversible")
    assert len(reversal.postings) == 3


def test_a_reversal_reference_reused_for_something_else_is_refused(wallet):
    payer, payee = wallet(10_000), wallet()
    first, second = pay(payer, payee, 100), pay(payer, payee, 200)
    api.entry_reverse(entry_id=first.id, external_ref="r")
    with pytest.raises(Conflict) as caught:
        api.entry_reverse(entry_id=second.id, external_ref="r")
    assert caught.value.code == "external_ref_reused"
