"""The tier schedules a tenant starts with, by product template. Data, not code paths: a tenant's
schedule is copied from here into its schema the first time it is needed (tiers.py) and can be
replaced there at any time (`api.tiers_configure`, later driven by contexts.products).

Amounts are PHP centavos. The three tiers follow the usual e-money ladder: a customer without
verified KYC can hold and move little; basic KYC lifts the limits; full KYC lifts them again.
"""

from __future__ import annotations

from .dtos import FlowLimits, TierSchedule, TierSpec


def _php(pesos: int) -> int:
    return pesos * 100


def _flow(kind: str, *, max_pesos: int, daily_pesos: int, daily: int, monthly_pesos: int, monthly: int) -> FlowLimits:
    return FlowLimits(
        kind=kind,
        min_amount=_php(1),
        max_amount=_php(max_pesos),
        daily_amount=_php(daily_pesos),
        daily_count=daily,
        monthly_amount=_php(monthly_pesos),
        monthly_count=monthly,
    )


STORED_VALUE_WALLET = TierSchedule(
    # The product serves the Philippines: a customer's "day" ends at midnight in Manila.
    time_zone="Asia/Manila",
    tiers=(
        TierSpec(
            code="starter",
            name="Starter (unverified)",
            kyc_level="none",
            currency="PHP",
            max_balance=_php(10_000),
            flows=(
                _flow("cash_in", max_pesos=10_000, daily_pesos=10_000, daily=10, monthly_pesos=10_000, monthly=30),
                _flow("cash_out", max_pesos=2_000, daily_pesos=2_000, daily=3, monthly_pesos=5_000, monthly=10),
                _flow("transfer_out", max_pesos=2_000, daily_pesos=2_000, daily=5, monthly_pesos=5_000, monthly=20),
            ),
        ),
        TierSpec(
            code="basic",
            name="Basic (verified)",
            kyc_level="basic",
            currency="PHP",
            max_balance=_php(100_000),
            flows=(
                _flow("cash_in", max_pesos=50_000, daily_pesos=100_000, daily=20, monthly_pesos=100_000, monthly=100),
                _flow("cash_out", max_pesos=20_000, daily_pesos=50_000, daily=10, monthly_pesos=100_000, monthly=50),
                _flow(
                    "transfer_out", max_pesos=50_000, daily_pesos=50_000, daily=20, monthly_pesos=100_000, monthly=100
                ),
            ),
        ),
        TierSpec(
            code="premium",
            name="Premium (fully verified)",
            kyc_level="full",
            currency="PHP",
            max_balance=_php(500_000),
            flows=(
                _flow("cash_in", max_pesos=100_000, daily_pesos=200_000, daily=50, monthly_pesos=500_000, monthly=300),
                _flow("cash_out", max_pesos=50_000, daily_pesos=100_000, daily=20, monthly_pesos=500_000, monthly=200),
                _flow(
                    "transfer_out", max_pesos=100_000, daily_pesos=200_000, daily=50, monthly_pesos=500_000, monthly=300
                ),
            ),
        ),
    ),
)

# For a template that ships no schedule of its own (yet): the stored-value ladder with every
# limit halved — conservative until its product configures real ones — and days in UTC, since
# nothing says where its customers live.
FALLBACK = TierSchedule(
    time_zone="UTC",
    tiers=tuple(
        TierSpec(
            code=tier.code,
            name=tier.name,
            kyc_level=tier.kyc_level,
            currency=tier.currency,
            max_balance=tier.max_balance // 2,
            flows=tuple(
                FlowLimits(
                    kind=flow.kind,
                    min_amount=flow.min_amount,
                    max_amount=flow.max_amount // 2,
                    daily_amount=flow.daily_amount // 2,
                    daily_count=flow.daily_count,
                    monthly_amount=flow.monthly_amount // 2,
                    monthly_count=flow.monthly_count,
                )
                for flow in tier.flows
            ),
        )
        for tier in STORED_VALUE_WALLET.tiers
    ),
)

BY_TEMPLATE: dict[str, TierSchedule] = {"stored_value_wallet": STORED_VALUE_WALLET}


def default_schedule(template: str) -> TierSchedule:
    return BY_TEMPLATE.get(template, FALLBACK)
