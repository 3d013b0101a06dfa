"""Opening wallets and their lifecycle: active ↔ suspended, active | suspended → closed (final)."""

from dataclasses import replace

import pytest

from contexts.wallets import api
from contexts.wallets.models import LimitUsage, Wallet
from contexts.wallets.tier_defaults import STORED_VALUE_WALLET
from finfactory.audit.models import AuditRecord
from finfactory.errors import BusinessRuleViolation, Conflict, InvalidInput, NotFound
from finfactory.events.catalog import validate_payload
from finfactory.ids import new_id
from finfactory.outbox.models import OutboxEvent

from .conftest import writes

EMPTY = api.ClosingBalance(ledger_account_id=new_id("acc"), posted=0, held=0, sequence=4)


def events_of(wallet_id: str) -> list[tuple[str, dict]]:
    return list(OutboxEvent.objects.filter(aggregate_id=wallet_id).order_by("id").values_list("type", "data"))


def audit_of(wallet_id: str) -> list[tuple]:
    return list(
        AuditRecord.objects.filter(target_type="wallet", target_id=wallet_id)
        .order_by("id")
        .values_list("action", "actor", "reason", "before", "after")
    )


def test_a_wallet_opens_active_in_the_tier_of_the_customers_kyc_level(wallets):
    customer = new_id("cus")

    opened = api.wallet_open(customer_id=customer, currency="PHP", kyc_level="basic")

    assert opened.id.startswith("wal_") and not opened.replayed
    assert (opened.customer_id, opened.currency, opened.status, opened.kyc_level, opened.tier) == (
        customer, "PHP", "active", "basic", "basic",
    )  # fmt: skip
    assert api.wallet_get(wallet_id=opened.id) == opened
    assert sorted(LimitUsage.objects.filter(wallet__public_id=opened.id).values_list("kind", flat=True)) == [
        "cash_in", "cash_out", "transfer_out",
    ]  # fmt: skip
    ((kind, data),) = events_of(opened.id)
    assert kind == "wallet.created"
    assert data == {
        "wallet_id": opened.id, "customer_id": customer, "currency": "PHP", "status": "active", "tier": "basic",
        "kyc_level": "basic", "max_balance": 10_000_000, "created_at": opened.created_at.isoformat(),
    }  # fmt: skip
    validate_payload(kind, data)
    assert audit_of(opened.id) == [
        (
            "wallet.created", "system:test", "Opened at KYC level basic (from the caller)", None,
            {"customer_id": customer, "currency": "PHP", "status": "active", "kyc_level": "basic", "tier": "basic"},
        )
    ]  # fmt: skip


@pytest.mark.parametrize(("level", "tier"), [("none", "starter"), ("basic", "basic"), ("full", "premium")])
def test_each_kyc_level_maps_to_its_stored_value_tier(wallets, level, tier):
    assert api.wallet_open(customer_id=new_id("cus"), currency="PHP", kyc_level=level).tier == tier


def test_opening_again_returns_the_open_wallet_and_writes_nothing(wallet):
    first = wallet(kyc_level="basic")
    before = writes()

    again = api.wallet_open(customer_id=first.customer_id, currency="PHP", kyc_level="full")

    assert again.replayed and again.id == first.id and again.kyc_level == "basic"
    assert writes() == before


def test_a_suspended_wallet_is_returned_too_but_a_closed_one_makes_way_for_a_new_wallet(wallet):
    first = wallet()
    api.wallet_suspend(wallet_id=first.id, reason="fraud review")
    assert api.wallet_open(customer_id=first.customer_id, currency="PHP", kyc_level="basic").id == first.id

    api.wallet_close(wallet_id=first.id, reason="customer left", closing_balance=EMPTY)
    second = api.wallet_open(customer_id=first.customer_id, currency="PHP", kyc_level="basic")

    assert second.id != first.id and not second.replayed and second.status == "active"
    assert Wallet.objects.filter(customer_id=first.customer_id).count() == 2


def test_one_customer_may_hold_one_wallet_per_currency(wallets):
    usd = tuple(replace(tier, currency="USD", code=f"{tier.code}-usd") for tier in STORED_VALUE_WALLET.tiers)
    api.tiers_configure(
        schedule=api.TierSchedule(time_zone="Asia/Manila", tiers=STORED_VALUE_WALLET.tiers + usd), reason="add USD"
    )
    customer = new_id("cus")

    php = api.wallet_open(customer_id=customer, currency="PHP", kyc_level="none")
    dollars = api.wallet_open(customer_id=customer, currency="USD", kyc_level="none")

    assert php.id != dollars.id and dollars.tier == "starter-usd"
    assert [w.id for w in api.wallet_list(customer_id=customer).items] == [dollars.id, php.id]


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"customer_id": "alice"}, "customer_id", "invalid_customer_id"),
        ({"customer_id": None}, "customer_id", "invalid_customer_id"),
        ({"currency": "php"}, "currency", "invalid_currency"),
        ({"currency": "XAU"}, "currency", "invalid_currency"),
        ({"kyc_level": "gold"}, "kyc_level", "invalid_choice"),
    ],
)
def test_bad_input_to_open_names_the_field_and_writes_nothing(wallets, fields, field, code):
    before = writes()

    with pytest.raises(InvalidInput) as refused:
        api.wallet_open(**{"customer_id": new_id("cus"), "currency": "PHP", "kyc_level": "basic", **fields})

    assert (refused.value.status, refused.value.code) == (400, "validation_error")
    assert [(e.field, e.code) for e in refused.value.errors] == [(field, code)]
    assert writes() == before


def test_a_currency_without_tiers_is_not_supported_and_nothing_is_written(wallets):
    before = writes()

    with pytest.raises(BusinessRuleViolation) as refused:
        api.wallet_open(customer_id=new_id("cus"), currency="USD", kyc_level="basic")

    assert (refused.value.status, refused.value.code) == (422, "currency_not_supported")
    assert [e.field for e in refused.value.errors] == ["currency"]
    assert writes() == before


# --- The transition table: every state by every action ---------------------------------------------

LEGAL = {
    ("active", "suspend"): "suspended",
    ("active", "close"): "closed",
    ("suspended", "activate"): "active",
    ("suspended", "close"): "closed",
}
EVENT = {"suspend": "wallet.suspended", "activate": "wallet.activated", "close": "wallet.closed"}


def in_state(wallet, state: str):
    opened = wallet()
    if state in ("suspended", "closed"):
        api.wallet_suspend(wallet_id=opened.id, reason="set up")
    if state == "closed":
        api.wallet_close(wallet_id=opened.id, reason="set up", closing_balance=EMPTY)
    return opened


def act(action: str, wallet_id: str, reason: str = "ops ticket 42"):
    if action == "close":
        return api.wallet_close(wallet_id=wallet_id, reason=reason, closing_balance=EMPTY)
    return getattr(api, f"wallet_{action}")(wallet_id=wallet_id, reason=reason)


@pytest.mark.parametrize("state", ["active", "suspended", "closed"])
@pytest.mark.parametrize("action", ["suspend", "activate", "close"])
def test_the_transition_table(wallet, state, action):
    opened = in_state(wallet, state)
    row_before = Wallet.objects.filter(public_id=opened.id).values().get()
    before = writes()

    if (state, action) not in LEGAL:
        with pytest.raises(Conflict) as refused:
            act(action, opened.id)

        assert (refused.value.status, refused.value.code) == (409, "invalid_transition")
        assert refused.value.extra == {"status": state, "action": action}
        assert [(e.field, e.code) for e in refused.value.errors] == [("wallet_id", "invalid_transition")]
        assert Wallet.objects.filter(public_id=opened.id).values().get() == row_before
        assert writes() == before
        return

    done = act(action, opened.id)

    target = LEGAL[(state, action)]
    assert done.status == target and done.status_reason == "ops ticket 42"
    assert (done.closed_at is not None) == (target == "closed")
    assert {k: v - before[k] for k, v in writes().items()} == {
        "wallets": 0, "usage": 0, "reservations": 0, "tiers": 0, "events": 1, "audit": 1,
    }  # fmt: skip
    kind, data = events_of(opened.id)[-1]
    assert kind == EVENT[action]
    validate_payload(kind, data)
    assert (data["status"], data["previous_status"], data["reason"]) == (target, state, "ops ticket 42")
    action_name, actor, reason, audit_before, audit_after = audit_of(opened.id)[-1]
    assert (action_name, actor, reason) == (EVENT[action], "system:test", "ops ticket 42")
    assert (audit_before["status"], audit_after["status"]) == (state, target)


def test_closing_records_the_ledger_evidence_in_the_event_and_the_audit_record(wallet):
    opened = wallet()

    api.wallet_close(wallet_id=opened.id, reason="customer request", closing_balance=EMPTY)

    evidence = {"ledger_account_id": EMPTY.ledger_account_id, "posted": 0, "held": 0, "sequence": 4}
    assert events_of(opened.id)[-1][1]["closing_balance"] == evidence
    assert audit_of(opened.id)[-1][4]["closing_balance"] == evidence


@pytest.mark.parametrize(
    ("posted", "held", "field"), [(1, 0, "closing_balance.posted"), (0, 250, "closing_balance.held")]
)
def test_a_wallet_with_money_left_cannot_close_and_nothing_is_written(wallet, posted, held, field):
    opened = wallet()
    before = writes()
    evidence = api.ClosingBalance(ledger_account_id=EMPTY.ledger_account_id, posted=posted, held=held, sequence=9)

    with pytest.raises(BusinessRuleViolation) as refused:
        api.wallet_close(wallet_id=opened.id, reason="customer request", closing_balance=evidence)

    assert (refused.value.status, refused.value.code) == (422, "balance_not_zero")
    assert [e.field for e in refused.value.errors] == [field]
    assert api.wallet_get(wallet_id=opened.id).status == "active"
    assert writes() == before


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": "x" * 501}, "reason"),
        ({"reason": None}, "reason"),
        ({"closing_balance": None}, "closing_balance"),
        ({"closing_balance": {"posted": 0}}, "closing_balance"),
        (
            {"closing_balance": api.ClosingBalance(ledger_account_id="wal_x", posted=0, held=0, sequence=1)},
            "closing_balance.ledger_account_id",
        ),
        (
            {"closing_balance": api.ClosingBalance(ledger_account_id=EMPTY.ledger_account_id, posted=0.0, held=0,
                                                   sequence=1)},
            "closing_balance.posted",
        ),
    ],
)  # fmt: skip
def test_bad_input_to_close_names_the_field_and_writes_nothing(wallet, kwargs, field):
    opened = wallet()
    before = writes()

    with pytest.raises(InvalidInput) as refused:
        api.wallet_close(**{"wallet_id": opened.id, "reason": "bye", "closing_balance": EMPTY, **kwargs})

    assert [e.field for e in refused.value.errors] == [field]
    assert writes() == before


def test_an_unknown_or_malformed_wallet_id_is_refused(wallets):
    with pytest.raises(NotFound) as unknown:
        api.wallet_suspend(wallet_id=new_id("wal"), reason="r")
    with pytest.raises(InvalidInput) as malformed:
        api.wallet_get(wallet_id="acc_123")

    assert (unknown.value.status, unknown.value.code) == (404, "wallet_not_found")
    assert [(e.field, e.code) for e in malformed.value.errors] == [("wallet_id", "invalid_wallet_id")]


def test_wallets_are_listed_newest_first_a_page_at_a_time(wallet):
    opened = [wallet(kyc_level=level) for level in ("none", "basic", "full", "basic", "none")]
    api.wallet_suspend(wallet_id=opened[1].id, reason="review")

    first = api.wallet_list(limit=2)
    second = api.wallet_list(limit=2, cursor=first.next_cursor)
    third = api.wallet_list(limit=2, cursor=second.next_cursor)

    newest_first = [w.id for w in reversed(opened)]
    assert [w.id for w in first.items + second.items + third.items] == newest_first
    assert third.next_cursor is None
    assert [w.id for w in api.wallet_list(status="suspended").items] == [opened[1].id]
    assert [w.id for w in api.wallet_list(tier="basic").items] == [opened[3].id, opened[1].id]
    assert [w.id for w in api.wallet_list(customer_id=opened[2].customer_id).items] == [opened[2].id]
    assert api.wallet_list(tier="platinum").items == ()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"cursor": "bm9wZQ"}, "cursor"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"currency": "pesos"}, "currency"),
        ({"status": "frozen"}, "status"),
        ({"customer_id": "alice"}, "customer_id"),
    ],
)
def test_a_bad_page_request_names_the_field(wallets, kwargs, field):
    with pytest.raises(InvalidInput) as refused:
        api.wallet_list(**kwargs)

    assert [e.field for e in refused.value.errors] == [field]
