"""Tier schedules are data: seeded per tenant from its product template, replaceable as a whole,
validated, versioned, audited and announced."""

from dataclasses import replace

import pytest

from contexts.wallets import api
from contexts.wallets.models import LimitPolicy, Tier, TierFlowLimit
from contexts.wallets.tier_defaults import FALLBACK, STORED_VALUE_WALLET
from contexts.wallets.tiers import parse_major_units, tier_limit_change
from finfactory.audit.models import AuditRecord
from finfactory.errors import BusinessRuleViolation, InvalidInput
from finfactory.events.catalog import validate_payload
from finfactory.ids import new_id
from finfactory.outbox.models import OutboxEvent
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant

from .conftest import writes
from .factories import FlowLimitsFactory, TierSpecFactory, schedule


def tier_audit() -> list[tuple]:
    return list(
        AuditRecord.objects.filter(target_type="wallet_tiers")
        .order_by("id")
        .values_list("action", "target_id", "reason")
    )


def test_a_stored_value_tenant_starts_with_its_templates_tiers(wallets):
    current = api.tiers_get()

    assert (current.template, current.source, current.version) == ("stored_value_wallet", "template", 1)
    assert current.schedule == STORED_VALUE_WALLET
    assert [(t.code, t.kyc_level, t.currency) for t in current.schedule.tiers] == [
        ("starter", "none", "PHP"), ("basic", "basic", "PHP"), ("premium", "full", "PHP"),
    ]  # fmt: skip
    assert (Tier.objects.count(), TierFlowLimit.objects.count()) == (3, 9)
    assert tier_audit() == [("wallet_tiers.seeded", "v1", "Defaults of the 'stored_value_wallet' product template")]
    assert AuditRecord.objects.get(action="wallet_tiers.seeded").after["time_zone"] == "Asia/Manila"


def test_a_template_without_its_own_tiers_gets_the_conservative_fallback(make_tenant):
    tenant = make_tenant("clp", template="closed_loop_wallet").tenant

    with in_tenant(tenant), acting_as("system:test"):
        current = api.tiers_get()
        again = api.tiers_get()

    assert (current.template, current.source) == ("closed_loop_wallet", "template")
    assert current.schedule == FALLBACK and current.schedule.time_zone == "UTC"
    assert again == current
    basic = FALLBACK.tier_for(kyc_level="basic", currency="PHP")
    assert basic.max_balance == STORED_VALUE_WALLET.tier_for(kyc_level="basic", currency="PHP").max_balance // 2


def test_configuring_replaces_the_schedule_and_announces_each_changed_tier(wallet):
    opened = wallet(kyc_level="basic")
    new = schedule(cash_in={"daily_amount": 42_000})
    since = OutboxEvent.objects.count()

    configured = api.tiers_configure(schedule=new, reason="product launch")

    assert (configured.source, configured.version, configured.schedule) == ("custom", 2, new)
    assert api.tiers_get() == configured
    assert api.wallet_get(wallet_id=opened.id).tier == "silver"  # the KYC level maps to the new tier
    assert api.limits_get(wallet_id=opened.id).flow("cash_in").limits.daily_amount == 42_000
    events = list(OutboxEvent.objects.order_by("id")[since:])
    assert [(e.type, e.aggregate_type, e.aggregate_id) for e in events] == [
        ("wallet.limit.updated", "wallet_tier", "PHP:bronze"),
        ("wallet.limit.updated", "wallet_tier", "PHP:silver"),
        ("wallet.limit.updated", "wallet_tier", "PHP:gold"),
    ]
    silver = events[1].data
    validate_payload("wallet.limit.updated", silver)
    assert (silver["scope"], silver["kyc_level"], silver["version"], silver["max_balance"]) == (
        "tier",
        "basic",
        2,
        1_000_000,
    )
    assert silver["flows"]["cash_in"] == {
        "min_amount": 100, "max_amount": 50_000, "daily_amount": 42_000, "daily_count": 10, "monthly_amount": 500_000,
        "monthly_count": 100,
    }  # fmt: skip
    record = AuditRecord.objects.get(action="wallet_tiers.configured")
    assert (record.target_id, record.reason, record.actor) == ("v2", "product launch", "system:test")
    assert record.before["tiers"][0]["code"] == "starter" and record.after["tiers"][0]["code"] == "bronze"


def test_only_the_tiers_that_changed_are_announced(limits):
    since = OutboxEvent.objects.count()

    configured = limits(transfer_out={"monthly_count": 99})

    assert configured.version == 3
    assert list(OutboxEvent.objects.order_by("id")[since:].values_list("aggregate_id", flat=True)) == ["PHP:silver"]


def test_an_identical_schedule_changes_nothing(limits):
    before = writes()

    unchanged = limits()

    assert unchanged.version == 2
    assert writes() == before


def _with_basic(**changes):
    tiers = [replace(t, **changes) if t.kyc_level == "basic" else t for t in STORED_VALUE_WALLET.tiers]
    return api.TierSchedule(time_zone="Asia/Manila", tiers=tuple(tiers))


def _with_basic_cash_in(**changes):
    basic = STORED_VALUE_WALLET.tier_for(kyc_level="basic", currency="PHP")
    flows = tuple(replace(f, **changes) if f.kind == "cash_in" else f for f in basic.flows)
    return _with_basic(flows=flows)


@pytest.mark.parametrize(
    ("bad", "field", "code"),
    [
        (replace(STORED_VALUE_WALLET, time_zone="Mars/Olympus"), "schedule.time_zone", "invalid_time_zone"),
        (replace(STORED_VALUE_WALLET, tiers=()), "schedule.tiers", "required"),
        (replace(STORED_VALUE_WALLET, tiers=STORED_VALUE_WALLET.tiers[:2]), "schedule.tiers", "incomplete_schedule"),
        (_with_basic(kyc_level="none"), "schedule.tiers[1].kyc_level", "duplicate_tier"),
        (_with_basic(code="starter"), "schedule.tiers[1].code", "duplicate_tier"),
        (_with_basic(code="Basic Tier"), "schedule.tiers[1].code", "invalid_code"),
        (_with_basic(currency="peso"), "schedule.tiers[1].currency", "invalid_currency"),
        (_with_basic(max_balance=-1), "schedule.tiers[1].max_balance", "amount_out_of_range"),
        (_with_basic(flows=STORED_VALUE_WALLET.tiers[1].flows[:2]), "schedule.tiers[1].flows", "incomplete_tier"),
        (_with_basic_cash_in(max_amount=50), "schedule.tiers[1].flows[0].max_amount", "inconsistent_limits"),
        (_with_basic_cash_in(daily_amount=10**8), "schedule.tiers[1].flows[0].daily_amount", "inconsistent_limits"),
        (_with_basic_cash_in(daily_count=500), "schedule.tiers[1].flows[0].daily_count", "inconsistent_limits"),
        (_with_basic_cash_in(monthly_count=-1), "schedule.tiers[1].flows[0].monthly_count", "invalid_count"),
        (_with_basic_cash_in(min_amount=0), "schedule.tiers[1].flows[0].min_amount", "amount_out_of_range"),
        (_with_basic_cash_in(daily_amount=1.5), "schedule.tiers[1].flows[0].daily_amount", "invalid_amount"),
        (_with_basic_cash_in(kind="refund"), "schedule.tiers[1].flows[0].kind", "invalid_choice"),
        ({"time_zone": "UTC"}, "schedule", "invalid_type"),
    ],
)
def test_a_bad_schedule_names_the_field_and_writes_nothing(wallets, bad, field, code):
    before = writes()

    with pytest.raises(InvalidInput) as refused:
        api.tiers_configure(schedule=bad, reason="try")

    assert [(e.field, e.code) for e in refused.value.errors] == [(field, code)]
    assert writes() == before
    assert api.tiers_get().schedule == STORED_VALUE_WALLET


def test_a_currency_with_open_wallets_keeps_its_tiers(wallet):
    opened = wallet()
    dollars_only = schedule(currencies=("USD",))
    before = writes()

    with pytest.raises(BusinessRuleViolation) as refused:
        api.tiers_configure(schedule=dollars_only, reason="drop pesos")

    assert (refused.value.code, [e.field for e in refused.value.errors]) == ("currency_in_use", ["schedule.tiers"])
    assert writes() == before
    closed = api.ClosingBalance(ledger_account_id=new_id("acc"), posted=0, held=0, sequence=0)
    api.wallet_close(wallet_id=opened.id, reason="last peso wallet", closing_balance=closed)
    assert api.tiers_configure(schedule=dollars_only, reason="drop pesos").schedule.currencies == ("USD",)
    # The closed peso wallet is still readable; its limits are gone with its currency.
    assert (api.wallet_get(wallet_id=opened.id).status, api.wallet_get(wallet_id=opened.id).tier) == ("closed", "")
    with pytest.raises(BusinessRuleViolation) as gone:
        api.limits_get(wallet_id=opened.id)
    assert gone.value.code == "currency_not_supported"


def test_one_limit_of_one_tier_can_change_alone(wallets):
    changed = tier_limit_change(tier="basic", currency="PHP", field="cash_out.daily_count", value=3, reason="AML")

    basic = changed.schedule.tier_for(kyc_level="basic", currency="PHP")
    assert basic.flow("cash_out").daily_count == 3
    assert changed.schedule == _with_basic(
        flows=tuple(replace(f, daily_count=3) if f.kind == "cash_out" else f for f in basic.flows)
    )
    assert LimitPolicy.objects.get().version == 2


def test_the_factories_build_a_valid_schedule(wallets):
    built = schedule(currencies=("PHP", "USD"))

    assert api.tiers_configure(schedule=built, reason="two currencies").schedule.currencies == ("PHP", "USD")
    assert TierSpecFactory().flow("cash_in") == FlowLimitsFactory(kind="cash_in")


@pytest.mark.parametrize(
    ("raw", "currency", "minor"),
    [("1500.50", "PHP", 150_050), ("0", "PHP", 0), (" 7 ", "PHP", 700), ("", "PHP", None), ("100", "JPY", 100)],
)
def test_major_units_convert_to_minor_units_exactly(raw, currency, minor):
    assert parse_major_units(raw, currency) == minor


@pytest.mark.parametrize(
    ("raw", "currency"), [("1.005", "PHP"), ("1.5", "JPY"), ("ten", "PHP"), ("-1", "PHP"), ("NaN", "PHP")]
)
def test_amounts_that_do_not_fit_the_currency_are_refused_not_rounded(raw, currency):
    with pytest.raises(InvalidInput) as refused:
        parse_major_units(raw, currency)

    assert [(e.field, e.code) for e in refused.value.errors] == [("value", "invalid_amount")]
