"""The model's features: what the scoring knew about a movement, as numbers in a fixed order.

`feature_vector` is the only place the numbers are made. The scoring path fills `FeatureInputs`
from the database (history.py) and the synthetic generator from its simulation, so a model
trained on generated history reads live movements the same way. An `Assessment` stores the
vector it was scored with: training uses what was known at the time, never what came later.
A change of meaning or order here is a new model: `ModelVersion.feature_names` records the
names a model was trained on, and a model whose names differ from FEATURES is not loaded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

FEATURES: tuple[str, ...] = (
    "amount_log10",
    "amount_to_customer_avg",
    "customer_count_1h",
    "customer_amount_1h_log10",
    "customer_count_24h",
    "new_counterparty",
    "new_device",
    "no_device",
    "geo_mismatch",
    "customer_age_days",
    "kyc_level",
    "wallet_age_days",
    "hour_of_day",
    "movement_type",
    "channel",
    "balance_drain_ratio",
    "declines_30d",
)

# Ordinal codes: trees split on them; a new value is appended, never inserted.
MOVEMENT_TYPE_CODES = {"cash_in": 0, "cash_out": 1, "transfer": 2, "qr_payment": 3, "card_payment": 4}
CHANNEL_CODES = {"app": 0, "web": 1, "api": 2, "pos": 3, "agent": 4, "back_office": 5}
KYC_LEVEL_CODES = {"none": 0, "basic": 1, "full": 2}
UNKNOWN = -1.0


@dataclass(frozen=True)
class FeatureInputs:
    """One movement and the customer's history before it (windows end at `occurred_at`)."""

    amount: int
    movement_type: str
    channel: str
    occurred_at: datetime
    customer_avg_amount: float | None  # mean amount of the customer's earlier, not declined movements
    customer_count_1h: int  # earlier movements of the customer in the hour before (not declined)
    customer_amount_1h: int
    customer_count_24h: int
    new_counterparty: bool  # a counterparty given that the customer never paid before
    device_given: bool
    new_device: bool  # a device given and never seen on the customer's approved movements
    geo_mismatch: bool
    customer_age_days: float | None  # None: fraud never heard of the customer
    kyc_level: str
    wallet_age_days: float | None
    available_balance: int | None  # the wallet's available balance before the movement, if known
    declines_30d: int  # the customer's declined movements in the 30 days before


def _log10(value: float) -> float:
    return math.log10(value + 1.0)


def feature_vector(inputs: FeatureInputs) -> list[float]:
    """The inputs as floats in FEATURES order."""
    amount = inputs.amount
    avg = inputs.customer_avg_amount
    outflow = inputs.movement_type != "cash_in"
    if outflow and inputs.available_balance is not None and inputs.available_balance > 0:
        drain = min(amount / inputs.available_balance, 10.0)
    else:
        drain = UNKNOWN
    return [
        _log10(amount),
        min(amount / avg, 1000.0) if avg else UNKNOWN,
        float(inputs.customer_count_1h),
        _log10(inputs.customer_amount_1h),
        float(inputs.customer_count_24h),
        float(inputs.new_counterparty),
        float(inputs.new_device),
        float(not inputs.device_given),
        float(inputs.geo_mismatch),
        inputs.customer_age_days if inputs.customer_age_days is not None else UNKNOWN,
        float(KYC_LEVEL_CODES.get(inputs.kyc_level, UNKNOWN)),
        inputs.wallet_age_days if inputs.wallet_age_days is not None else UNKNOWN,
        float(inputs.occurred_at.hour),
        float(MOVEMENT_TYPE_CODES.get(inputs.movement_type, UNKNOWN)),
        float(CHANNEL_CODES.get(inputs.channel, UNKNOWN)),
        drain,
        float(inputs.declines_30d),
    ]
