"""Input checks of every wallets write: each failure names its field and a stable code, before
anything is read or written."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from finfactory.errors import FieldError, InvalidInput
from finfactory.ids import looks_like
from finfactory.money import MAX_AMOUNT, require_amount, require_currency

from .dtos import ClosingBalance, FlowLimits, TierSchedule, TierSpec
from .models import FlowKind, KycLevel

MAX_REFERENCE = 200
MAX_REASON = 500
MAX_COUNT = 1_000_000
_TIER_CODE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


def invalid(field: str, message: str, code: str = "invalid") -> InvalidInput:
    return InvalidInput(message, errors=[FieldError(field, message, code)])


def text(value: object, field: str, *, max_length: int) -> str:
    """A non-blank string without NUL characters, at most `max_length` long (stripped)."""
    if not isinstance(value, str):
        raise invalid(field, "Must be a string.", "invalid_type")
    if not value.strip():
        raise invalid(field, "Must not be blank.", "required")
    if len(value) > max_length:
        raise invalid(field, f"Must be at most {max_length} characters.", "too_long")
    if "\x00" in value:
        raise invalid(field, "Must not contain NUL characters.", "invalid_characters")
    return value.strip()


def reason(value: object, field: str = "reason") -> str:
    return text(value, field, max_length=MAX_REASON)


def reference(value: object, field: str = "reference") -> str:
    return text(value, field, max_length=MAX_REFERENCE)


def customer_id(value: object, field: str = "customer_id") -> str:
    if not looks_like("cus", value):
        raise invalid(field, "Must be a customer id (cus_…).", "invalid_customer_id")
    return value  # type: ignore[return-value]


def wallet_id(value: object, field: str = "wallet_id") -> str:
    if not looks_like("wal", value):
        raise invalid(field, "Must be a wallet id (wal_…).", "invalid_wallet_id")
    return value  # type: ignore[return-value]


def choice(value: object, field: str, choices: list[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise invalid(field, f"Must be one of {', '.join(choices)}.", "invalid_choice")
    return value


def kyc_level(value: object, field: str = "kyc_level") -> str:
    return choice(value, field, KycLevel.values)


def kind(value: object, field: str = "kind") -> str:
    return choice(value, field, FlowKind.values)


def closing_balance(value: object, field: str = "closing_balance") -> ClosingBalance:
    """Well-formed evidence; whether it shows an empty wallet is the service's business rule."""
    if not isinstance(value, ClosingBalance):
        raise invalid(field, "Must be the wallet's ClosingBalance read from the ledger.", "required")
    if not looks_like("acc", value.ledger_account_id):
        raise invalid(f"{field}.ledger_account_id", "Must be a ledger account id (acc_…).", "invalid_account_id")
    for name in ("posted", "held", "sequence"):
        amount = getattr(value, name)
        if isinstance(amount, bool) or not isinstance(amount, int) or abs(amount) > MAX_AMOUNT:
            raise invalid(f"{field}.{name}", "Must be an integer.", "invalid_type")
    if value.sequence < 0:
        raise invalid(f"{field}.sequence", "Must not be negative.", "invalid")
    return value


def time_zone(value: object, field: str = "time_zone") -> str:
    if not isinstance(value, str) or not value or len(value) > 64:
        raise invalid(field, "Must be an IANA time zone such as Asia/Manila.", "invalid_time_zone")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid(field, "Must be an IANA time zone such as Asia/Manila.", "invalid_time_zone") from None
    return value


def _optional_amount(value: object, field: str) -> int | None:
    return None if value is None else require_amount(value, field=field, allow_zero=True)


def _optional_count(value: object, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise invalid(field, f"Must be an integer from 0 to {MAX_COUNT}, or empty for no limit.", "invalid_count")
    return value


def flow_limits(value: object, field: str) -> FlowLimits:
    if not isinstance(value, FlowLimits):
        raise invalid(field, "Must be FlowLimits.", "invalid_type")
    flow = FlowLimits(
        kind=kind(value.kind, f"{field}.kind"),
        min_amount=require_amount(value.min_amount, field=f"{field}.min_amount"),
        max_amount=_optional_amount(value.max_amount, f"{field}.max_amount"),
        daily_amount=_optional_amount(value.daily_amount, f"{field}.daily_amount"),
        daily_count=_optional_count(value.daily_count, f"{field}.daily_count"),
        monthly_amount=_optional_amount(value.monthly_amount, f"{field}.monthly_amount"),
        monthly_count=_optional_count(value.monthly_count, f"{field}.monthly_count"),
    )
    if flow.max_amount is not None and flow.max_amount < flow.min_amount:
        raise invalid(f"{field}.max_amount", "Must not be below min_amount.", "inconsistent_limits")
    for daily, monthly in (("daily_amount", "monthly_amount"), ("daily_count", "monthly_count")):
        day_value, month_value = getattr(flow, daily), getattr(flow, monthly)
        if day_value is not None and month_value is not None and day_value > month_value:
            raise invalid(f"{field}.{daily}", f"Must not exceed {monthly}.", "inconsistent_limits")
    return flow


def tier_spec(value: object, field: str) -> TierSpec:
    if not isinstance(value, TierSpec):
        raise invalid(field, "Must be a TierSpec.", "invalid_type")
    if not isinstance(value.code, str) or not _TIER_CODE.match(value.code):
        raise invalid(f"{field}.code", "Must be 1-40 of a-z, 0-9, - and _, starting with a letter.", "invalid_code")
    if not isinstance(value.flows, tuple | list):
        raise invalid(f"{field}.flows", "Must list one FlowLimits per flow.", "invalid_type")
    flows = tuple(flow_limits(flow, f"{field}.flows[{i}]") for i, flow in enumerate(value.flows))
    kinds = [flow.kind for flow in flows]
    if sorted(kinds) != sorted(FlowKind.values):
        raise invalid(f"{field}.flows", f"Must define each of {', '.join(FlowKind.values)} once.", "incomplete_tier")
    return TierSpec(
        code=value.code,
        name=text(value.name, f"{field}.name", max_length=100),
        kyc_level=kyc_level(value.kyc_level, f"{field}.kyc_level"),
        currency=require_currency(value.currency, field=f"{field}.currency"),
        max_balance=_optional_amount(value.max_balance, f"{field}.max_balance"),
        flows=tuple(sorted(flows, key=lambda flow: FlowKind.values.index(flow.kind))),
    )


def tier_schedule(value: object, field: str = "schedule") -> TierSchedule:
    """A complete, consistent schedule: per currency exactly one tier per KYC level, tier codes
    unique per currency, every flow defined, min ≤ max and daily ≤ monthly."""
    if not isinstance(value, TierSchedule):
        raise invalid(field, "Must be a TierSchedule.", "invalid_type")
    zone = time_zone(value.time_zone, f"{field}.time_zone")
    if not isinstance(value.tiers, tuple | list) or not value.tiers:
        raise invalid(f"{field}.tiers", "Must list at least one tier.", "required")
    tiers = tuple(tier_spec(tier, f"{field}.tiers[{i}]") for i, tier in enumerate(value.tiers))
    seen_codes: set[tuple[str, str]] = set()
    seen_levels: set[tuple[str, str]] = set()
    for index, tier in enumerate(tiers):
        if (tier.code, tier.currency) in seen_codes:
            raise invalid(f"{field}.tiers[{index}].code", "Tier codes must be unique per currency.", "duplicate_tier")
        if (tier.kyc_level, tier.currency) in seen_levels:
            raise invalid(
                f"{field}.tiers[{index}].kyc_level", "Only one tier per KYC level and currency.", "duplicate_tier"
            )
        seen_codes.add((tier.code, tier.currency))
        seen_levels.add((tier.kyc_level, tier.currency))
    for currency in sorted({tier.currency for tier in tiers}):
        missing = [level for level in KycLevel.values if (level, currency) not in seen_levels]
        if missing:
            raise invalid(
                f"{field}.tiers",
                f"{currency} has no tier for KYC level {', '.join(missing)}: every level needs one.",
                "incomplete_schedule",
            )
    # One canonical order (currency, then KYC level), so equal schedules compare equal.
    ordered = sorted(tiers, key=lambda tier: (tier.currency, KycLevel.values.index(tier.kyc_level)))
    return TierSchedule(time_zone=zone, tiers=tuple(ordered))
