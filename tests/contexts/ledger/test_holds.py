"""Holds: reserve, capture in full or in part, release, expire — each at most once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from contexts.ledger import api
from contexts.ledger.holds import holds_expire_due
from contexts.ledger.models import Hold
from finfactory.errors import BusinessRuleViolation, Conflict, InvalidInput
from finfactory.events.catalog import validate_payload
from finfactory.outbox.models import OutboxEvent

from .conftest import ref


def hold_on(account, merchant, amount, **kwargs):
    return api.hold_create(
        external_ref=kwargs.pop("external_ref", ref("hold")), account_id=account.id, credit_account_id=merchant.id,
        amount=amount, currency="PHP", **kwargs,
    )  # fmt: skip


def test_a_hold_reserves_available_funds_without_posting(wallet):
    customer, merchant = wallet(10_000), wallet()
    hold = hold_on(customer, merchant, 4_000)

    balance = api.balance_get(account_id=customer.id)
    assert (balance.posted, balance.held, balance.available) == (10_000, 4_000, 6_000)
    assert hold.status == "active" and hold.id.startswith("hld_")
    with pytest.raises(BusinessRuleViolation, match="insufficient"):
        api.transfer(
            external_ref=ref(), debit_account_id=customer.id, credit_account_id=merchant.id, amount=6_001,
            currency="PHP",
        )  # fmt: skip
    with pytest.raises(BusinessRuleViolation) as caught:
        hold_on(customer, merchant, 6_001)
    assert caught.value.code == "insufficient_funds"
    assert Hold.objects.count() == 1


def test_a_partial_capture_posts_the_amount_and_releases_the_rest_once(wallet):
    customer, merchant = wallet(10_000), wallet()
    hold = hold_on(customer, merchant, 4_000)
    since = OutboxEvent.objects.count()

    captured = api.hold_capture(hold_id=hold.id, external_ref="cap-1", amount=2_500)

    assert (captured.status, captured.captured_amount) == ("captured", 2_500)
    balance = api.balance_get(account_id=customer.id)
    assert (balance.posted, balance.held, balance.available) == (7_500, 0, 7_500)
    assert api.balance_get(account_id=merchant.id).posted == 2_500
    entry = api.entry_get(entry_id=captured.capture_entry_id)
    assert (entry.kind, entry.hold_id, entry.external_ref) == ("hold_capture", hold.id, "cap-1")
    events = list(OutboxEvent.objects.order_by("id")[since:])
    assert sorted(e.type for e in events) == ["balance.updated", "balance.updated", "hold.released", "journal.posted"]
    released = next(e for e in events if e.type == "hold.released")
    assert (released.data["captured_amount"], released.data["released_amount"]) == (2_500, 1_500)
    for event in events:
        validate_payload(event.type, event.data)

    # A retry of the same capture answers as the first; anything else on a captured hold is refused.
    assert api.hold_capture(hold_id=hold.id, external_ref="cap-1", amount=2_500).replayed
    with pytest.raises(Conflict) as again:
        api.hold_capture(hold_id=hold.id, external_ref="cap-2")
    with pytest.raises(Conflict) as release:
        api.hold_release(hold_id=hold.id)
    assert again.value.code == release.value.code == "hold_captured"
    assert api.balance_get(account_id=customer.id).posted == 7_500


def test_a_capture_cannot_exceed_the_hold(wallet):
    customer, merchant = wallet(10_000), wallet()
    hold = hold_on(customer, merchant, 1_000)
    with pytest.raises(BusinessRuleViolation) as caught:
        api.hold_capture(hold_id=hold.id, external_ref=ref(), amount=1_001)
    assert caught.value.code == "capture_exceeds_hold"
    assert api.hold_get(hold_id=hold.id).status == "active"
    assert api.balance_get(account_id=customer.id).held == 1_000


def test_a_release_gives_everything_back_and_cannot_then_be_captured(wallet):
    customer, merchant = wallet(10_000), wallet()
    hold = hold_on(customer, merchant, 3_000)

    released = api.hold_release(hold_id=hold.id)

    assert released.status == "released"
    assert api.balance_get(account_id=customer.id).available == 10_000
    assert api.hold_release(hold_id=hold.id).replayed
    with pytest.raises(Conflict) as caught:
        api.hold_capture(hold_id=hold.id, external_ref=ref())
    assert caught.value.code == "hold_released"
    assert api.balance_get(account_id=customer.id).held == 0


def test_due_holds_expire_and_an_expired_hold_cannot_be_captured(wallet):
    customer, merchant = wallet(10_000), wallet()
    soon = hold_on(customer, merchant, 2_000, expires_at=timezone.now() + timedelta(seconds=30))
    later = hold_on(customer, merchant, 1_000, expires_at=timezone.now() + timedelta(days=2))

    assert holds_expire_due(now=timezone.now()) == 0
    assert holds_expire_due(now=timezone.now() + timedelta(minutes=1)) == 1

    assert api.hold_get(hold_id=soon.id).status == "expired"
    assert api.hold_get(hold_id=later.id).status == "active"
    assert api.balance_get(account_id=customer.id).held == 1_000
    with pytest.raises(Conflict) as caught:
        api.hold_capture(hold_id=soon.id, external_ref=ref())
    assert caught.value.code == "hold_expired"
    assert holds_expire_due(now=timezone.now() + timedelta(minutes=1)) == 0


def test_a_hold_past_its_expiry_is_refused_even_before_the_sweep(wallet):
    customer, merchant = wallet(10_000), wallet()
    hold = hold_on(customer, merchant, 2_000, expires_at=timezone.now() + timedelta(seconds=30))
    Hold.objects.filter(public_id=hold.id).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(Conflict) as caught:
        api.hold_capture(hold_id=hold.id, external_ref=ref())
    assert caught.value.code == "hold_expired"
    assert api.balance_get(account_id=customer.id).posted == 10_000


def test_hold_references_are_idempotent(wallet):
    customer, merchant = wallet(10_000), wallet()
    first = hold_on(customer, merchant, 500, external_ref="auth-1")
    assert hold_on(customer, merchant, 500, external_ref="auth-1").id == first.id
    with pytest.raises(Conflict) as caught:
        hold_on(customer, merchant, 501, external_ref="auth-1")
    assert caught.value.code == "external_ref_reused"
    assert api.balance_get(account_id=customer.id).held == 500


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"currency": "EURO"}, "currency"),
        ({"expires_at": "tomorrow"}, "expires_at"),
        ({"external_ref": None}, "external_ref"),
    ],
)
def test_malformed_holds_write_nothing(wallet, kwargs, field):
    customer, merchant = wallet(10_000), wallet()
    request = {
        "external_ref": ref(), "account_id": customer.id, "credit_account_id": merchant.id, "amount": 10,
        "currency": "PHP", **kwargs,
    }  # fmt: skip
    with pytest.raises(InvalidInput) as caught:
        api.hold_create(**request)
    assert [e.field for e in caught.value.errors] == [field]
    assert Hold.objects.count() == 0 and api.balance_get(account_id=customer.id).held == 0


def test_holds_are_refused_on_debit_normal_accounts(wallet, float_account):
    merchant = wallet()
    with pytest.raises(BusinessRuleViolation) as caught:
        api.hold_create(
            external_ref=ref(), account_id=float_account.id, credit_account_id=merchant.id, amount=1, currency="PHP"
        )
    assert caught.value.code == "hold_not_supported"
