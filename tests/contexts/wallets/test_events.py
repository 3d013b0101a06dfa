"""The wallets' event contracts: registered under their names, and strict about their payloads."""

import pytest

from finfactory.events.catalog import InvalidEventPayload, event_type_get, validate_payload

WALLET = "wal_01jq0000000000000000000000"
CUSTOMER = "cus_01jq0000000000000000000000"
FLOW = {"min_amount": 100, "max_amount": None, "daily_amount": 5_000, "daily_count": 5, "monthly_amount": None,
        "monthly_count": 20}  # fmt: skip
TIER_SCOPE = {
    "scope": "tier", "tier": "basic", "name": "Basic", "currency": "PHP", "kyc_level": "basic", "max_balance": None,
    "flows": {"cash_in": FLOW, "cash_out": FLOW, "transfer_out": FLOW}, "version": 2,
}  # fmt: skip
WALLET_SCOPE = {
    "scope": "wallet", "wallet_id": WALLET, "customer_id": CUSTOMER, "currency": "PHP", "tier": "premium",
    "previous_tier": "basic", "kyc_level": "full", "previous_kyc_level": "basic", "max_balance": 50_000_000,
    "cause": "kyc.verified", "cause_event_id": "evt_01jq0000000000000000000000",
}  # fmt: skip


def test_the_five_wallet_events_are_in_the_catalog_owned_by_wallets():
    names = ["wallet.created", "wallet.activated", "wallet.suspended", "wallet.closed", "wallet.limit.updated"]

    assert [(event_type_get(n).owner, event_type_get(n).version) for n in names] == [("contexts.wallets", 1)] * 5


def test_both_scopes_of_a_limit_update_are_valid():
    validate_payload("wallet.limit.updated", TIER_SCOPE)
    validate_payload("wallet.limit.updated", WALLET_SCOPE)


TRANSITION = {"wallet_id": WALLET, "customer_id": CUSTOMER, "currency": "PHP", "reason": "ops ticket"}
CREATED = {
    "wallet_id": WALLET, "customer_id": CUSTOMER, "currency": "PHP", "status": "active", "tier": "basic",
    "kyc_level": "basic", "max_balance": 1, "created_at": "2025-01-01T00:00:00Z",
}  # fmt: skip
NOT_EMPTY = {"ledger_account_id": "acc_1", "posted": 5, "held": 0, "sequence": 1}

BROKEN = [
    ("wallet.limit.updated", {**WALLET_SCOPE, "flows": TIER_SCOPE["flows"]}),  # a mix of both scopes
    ("wallet.limit.updated", {**TIER_SCOPE, "flows": {"cash_in": FLOW}}),  # a flow missing
    ("wallet.limit.updated", {**WALLET_SCOPE, "cause": "kyc.rejected"}),
    ("wallet.suspended", {**TRANSITION, "status": "suspended", "previous_status": "closed"}),
    ("wallet.activated", {**TRANSITION, "status": "active", "previous_status": "suspended", "reason": ""}),
    ("wallet.closed", {**TRANSITION, "status": "closed", "previous_status": "active", "closing_balance": NOT_EMPTY}),
    ("wallet.created", {**CREATED, "wallet_id": "acc_1"}),
    ("wallet.created", {**CREATED, "status": "suspended"}),
]


@pytest.mark.parametrize(("name", "data"), BROKEN)
def test_a_payload_outside_the_contract_is_refused(name, data):
    with pytest.raises(InvalidEventPayload):
        validate_payload(name, data)


def test_the_examples_differ_from_valid_payloads_only_by_their_defect():
    validate_payload("wallet.created", CREATED)
    validate_payload("wallet.suspended", {**TRANSITION, "status": "suspended", "previous_status": "active"})
    validate_payload(
        "wallet.closed",
        {**TRANSITION, "status": "closed", "previous_status": "active", "closing_balance": {**NOT_EMPTY, "posted": 0}},
    )
