"""Builders for wallets tests: schedules with chosen limits, and wallets opened through the api."""

import factory

from contexts.wallets import api
from contexts.wallets.dtos import FlowLimits, TierSchedule, TierSpec
from finfactory.ids import new_id

FLOWS = ("cash_in", "cash_out", "transfer_out")
CODES = {"none": "bronze", "basic": "silver", "full": "gold"}


class FlowLimitsFactory(factory.Factory):
    class Meta:
        model = FlowLimits

    kind = "cash_in"
    min_amount = 100
    max_amount = 50_000
    daily_amount = 100_000
    daily_count = 10
    monthly_amount = 500_000
    monthly_count = 100


class TierSpecFactory(factory.Factory):
    class Meta:
        model = TierSpec

    kyc_level = "basic"
    code = factory.LazyAttribute(lambda tier: CODES[tier.kyc_level])
    name = factory.LazyAttribute(lambda tier: f"{tier.code.title()} tier")
    currency = "PHP"
    max_balance = 1_000_000
    flows = factory.LazyFunction(lambda: tuple(FlowLimitsFactory(kind=kind) for kind in FLOWS))


def schedule(*, time_zone: str = "Asia/Manila", currencies=("PHP",), **basic_flows) -> TierSchedule:
    """Three tiers per currency (bronze/silver/gold for KYC none/basic/full); the basic tier's
    flows take the overrides given as cash_in={...}, cash_out={...}, transfer_out={...}."""
    tiers = []
    for currency in currencies:
        for level in CODES:
            overrides = basic_flows if level == "basic" else {}
            flows = tuple(FlowLimitsFactory(kind=kind, **overrides.get(kind, {})) for kind in FLOWS)
            tiers.append(TierSpecFactory(kyc_level=level, currency=currency, flows=flows))
    return TierSchedule(time_zone=time_zone, tiers=tuple(tiers))


class WalletFactory(factory.Factory):
    """Opens a wallet through the public api (events and audit included); returns its WalletDTO."""

    class Meta:
        model = dict

    customer_id = factory.LazyFunction(lambda: new_id("cus"))
    currency = "PHP"
    kyc_level = "basic"

    @classmethod
    def _create(cls, model_class, **kwargs):
        return api.wallet_open(**kwargs)
