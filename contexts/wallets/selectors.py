"""Reads: wallets, the tier schedule, a wallet's limits and usage, reservations. Nothing here
writes; the schedule is seeded by tiers.policy() before any wallet exists."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from finfactory.errors import BusinessRuleViolation, FieldError, NotFound
from finfactory.money import require_currency
from finfactory.pages import Page, keyset_page, page_limit

from . import validation
from .dtos import (
    FlowLimits,
    FlowUsage,
    ReservationDTO,
    TierSchedule,
    TierScheduleDTO,
    TierSpec,
    WalletDTO,
    WalletLimitsDTO,
)
from .models import (
    FlowKind,
    KycLevel,
    LimitPolicy,
    LimitReservation,
    LimitUsage,
    Tier,
    TierFlowLimit,
    Wallet,
    WalletStatus,
)


def periods(at: datetime, time_zone: str) -> tuple[date, date]:
    """The day and the month (its first day) that the instant `at` falls in, in `time_zone`."""
    local = at.astimezone(ZoneInfo(time_zone)).date()
    return local, local.replace(day=1)


# --- The tier schedule ---------------------------------------------------------------------------


def flow_limits_of(row: TierFlowLimit) -> FlowLimits:
    return FlowLimits(
        kind=row.kind,
        min_amount=row.min_amount,
        max_amount=row.max_amount,
        daily_amount=row.daily_amount,
        daily_count=row.daily_count,
        monthly_amount=row.monthly_amount,
        monthly_count=row.monthly_count,
    )


def _tier_spec(tier: Tier) -> TierSpec:
    flows = sorted(tier.flows.all(), key=lambda row: FlowKind.values.index(row.kind))
    return TierSpec(
        code=tier.code,
        name=tier.name,
        kyc_level=tier.kyc_level,
        currency=tier.currency,
        max_balance=tier.max_balance,
        flows=tuple(flow_limits_of(row) for row in flows),
    )


def schedule_read(policy: LimitPolicy) -> TierSchedule:
    tiers = Tier.objects.prefetch_related("flows")
    ordered = sorted(tiers, key=lambda tier: (tier.currency, KycLevel.values.index(tier.kyc_level)))
    return TierSchedule(time_zone=policy.time_zone, tiers=tuple(_tier_spec(tier) for tier in ordered))


def schedule_dto(policy: LimitPolicy) -> TierScheduleDTO:
    return TierScheduleDTO(
        template=policy.template,
        source=policy.source,
        version=policy.version,
        updated_at=policy.updated_at,
        schedule=schedule_read(policy),
    )


def tier_codes() -> dict[tuple[str, str], str]:
    """(kyc_level, currency) → tier code, for the whole schedule (a handful of rows)."""
    return {
        (level, currency): code for level, currency, code in Tier.objects.values_list("kyc_level", "currency", "code")
    }


# --- Wallets -------------------------------------------------------------------------------------


def wallet_dto(wallet: Wallet, *, tiers: dict[tuple[str, str], str] | None = None, replayed: bool = False):
    tiers = tier_codes() if tiers is None else tiers
    return WalletDTO(
        id=wallet.public_id,
        customer_id=wallet.customer_id,
        currency=wallet.currency,
        status=wallet.status,
        tier=tiers.get((wallet.kyc_level, wallet.currency), ""),
        kyc_level=wallet.kyc_level,
        status_reason=wallet.status_reason,
        created_at=wallet.created_at,
        updated_at=wallet.updated_at,
        closed_at=wallet.closed_at,
        replayed=replayed,
    )


def wallet_row(wallet_id: object, *, field: str = "wallet_id") -> Wallet:
    """The wallet with this public id in the current tenant, or 404 `wallet_not_found`."""
    validation.wallet_id(wallet_id, field)
    wallet = Wallet.objects.filter(public_id=wallet_id).first()
    if wallet is None:
        raise NotFound(
            f"wallet {wallet_id!r} does not exist",
            code="wallet_not_found",
            errors=[FieldError(field, "No such wallet.", "wallet_not_found")],
        )
    return wallet


def wallet_get(wallet_id: object) -> WalletDTO:
    return wallet_dto(wallet_row(wallet_id))


def wallet_list(
    *,
    customer_id: str | None = None,
    currency: str | None = None,
    status: str | None = None,
    tier: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> Page:
    """Wallets newest first, a page at a time (a cursor on the row id: stable under inserts)."""
    page_limit(limit)
    queryset = Wallet.objects.all()
    if customer_id is not None:
        queryset = queryset.filter(customer_id=validation.customer_id(customer_id))
    if currency is not None:
        queryset = queryset.filter(currency=require_currency(currency))
    if status is not None:
        queryset = queryset.filter(status=validation.choice(status, "status", WalletStatus.values))
    tiers = tier_codes()
    if tier is not None:
        served = [Q(kyc_level=level, currency=cur) for (level, cur), code in tiers.items() if code == tier]
        if not served:
            return Page(items=(), next_cursor=None)
        condition = served[0]
        for other in served[1:]:
            condition |= other
        queryset = queryset.filter(condition)
    return keyset_page(queryset, limit=limit, cursor=cursor, kind="wal", item=lambda row: wallet_dto(row, tiers=tiers))


# --- Limits and usage ----------------------------------------------------------------------------


def limits_get(wallet_id: object, *, now: datetime | None = None) -> WalletLimitsDTO:
    """The wallet's tier, its limits and what it used of them in the current day and month.

    Usage recorded for an earlier period reads as zero: that period is over.
    """
    wallet = wallet_row(wallet_id)
    policy = LimitPolicy.objects.get(pk=1)
    tier = Tier.objects.prefetch_related("flows").filter(kyc_level=wallet.kyc_level, currency=wallet.currency).first()
    if tier is None:  # only a closed wallet can outlive its currency's tiers (tiers_configure)
        raise BusinessRuleViolation(
            f"The tenant's schedule no longer has tiers in {wallet.currency}.",
            code="currency_not_supported",
            errors=[FieldError("wallet_id", f"No tier is defined for {wallet.currency}.", "currency_not_supported")],
        )
    day, month = periods(now or timezone.now(), policy.time_zone)
    usage = {row.kind: row for row in LimitUsage.objects.filter(wallet_id=wallet.pk)}
    spec = _tier_spec(tier)
    flows = []
    for limits in spec.flows:
        row = usage.get(limits.kind)
        same_day = row is not None and row.day is not None and row.day >= day
        same_month = row is not None and row.month is not None and row.month >= month
        flows.append(
            FlowUsage(
                limits=limits,
                day_amount=row.day_amount if same_day else 0,
                day_count=row.day_count if same_day else 0,
                month_amount=row.month_amount if same_month else 0,
                month_count=row.month_count if same_month else 0,
            )
        )
    return WalletLimitsDTO(
        wallet_id=wallet.public_id,
        currency=wallet.currency,
        tier=tier.code,
        kyc_level=wallet.kyc_level,
        max_balance=tier.max_balance,
        time_zone=policy.time_zone,
        day=day,
        month=month,
        flows=tuple(flows),
    )


def reservation_dto(reservation: LimitReservation, *, wallet_public_id: str, replayed: bool = False):
    return ReservationDTO(
        id=reservation.public_id,
        reference=reservation.reference,
        wallet_id=wallet_public_id,
        kind=reservation.kind,
        amount=reservation.amount,
        currency=reservation.currency,
        status=reservation.status,
        day=reservation.day,
        month=reservation.month,
        created_at=reservation.created_at,
        released_at=reservation.released_at,
        replayed=replayed,
    )


def reservation_row(reference: str) -> LimitReservation | None:
    return LimitReservation.objects.select_related("wallet").filter(reference=reference).first()
