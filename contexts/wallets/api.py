"""The wallets' public face: the only module another context (the orchestration layer) imports.

Plain keyword-only functions taking and returning frozen DTOs (dtos.py). Amounts are integers in
minor units next to an ISO 4217 currency. Who acts and the request id come from
finfactory.request_context (the API authentication, the admin or `acting_as`) and are recorded in
every audit record and event.

Errors are finfactory.errors exceptions with stable codes. Every refusal writes nothing: no row,
no event, no audit record. Input errors (400 `validation_error`, or `invalid_cursor`) name the
field in `errors[]`.
"""

from __future__ import annotations

from finfactory.pages import Page

from . import limits, selectors, services, tiers
from .dtos import (
    ClosingBalance,
    FlowLimits,
    FlowUsage,
    ReservationDTO,
    TierSchedule,
    TierScheduleDTO,
    TierSpec,
    WalletDTO,
    WalletLimitsDTO,
)

__all__ = [
    "ClosingBalance",
    "FlowLimits",
    "FlowUsage",
    "Page",
    "ReservationDTO",
    "TierSchedule",
    "TierScheduleDTO",
    "TierSpec",
    "WalletDTO",
    "WalletLimitsDTO",
    "limits_get",
    "limits_release",
    "limits_reserve",
    "tiers_configure",
    "tiers_get",
    "wallet_activate",
    "wallet_close",
    "wallet_get",
    "wallet_list",
    "wallet_open",
    "wallet_suspend",
]  # fmt: skip


def wallet_open(*, customer_id: str, currency: str, kyc_level: str) -> WalletDTO:
    """Open an active wallet for a customer in one currency; idempotent per (customer, currency).

    `customer_id` is identity's public id (`cus_…`); `kyc_level` (none | basic | full) is the
    level the caller read from identity. If wallets has already heard a KYC event for this
    customer, that level wins (it is at least as new). The tier is the tenant's tier for that
    level and currency.

    A customer has at most one open (active or suspended) wallet per currency: calling again
    returns it unchanged with `replayed=True` and writes nothing; after it is closed, a new one
    can be opened.

    Errors: 400 `validation_error` (customer_id, currency, kyc_level); 422
    `currency_not_supported` (the tenant's schedule has no tier in that currency).
    Events: `wallet.created`. Audit: `wallet.created`.
    """
    return services.wallet_open(customer_id=customer_id, currency=currency, kyc_level=kyc_level)


def wallet_get(*, wallet_id: str) -> WalletDTO:
    """Errors: 400 `validation_error` (not a wal_ id); 404 `wallet_not_found`."""
    return selectors.wallet_get(wallet_id)


def wallet_list(
    *,
    customer_id: str | None = None,
    currency: str | None = None,
    status: str | None = None,
    tier: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> Page:
    """Wallets newest first, optionally filtered; `limit` 1-100; pass `next_cursor` back for the
    next page (stable under concurrent inserts). Errors: 400 `validation_error`, `invalid_cursor`."""
    return selectors.wallet_list(
        customer_id=customer_id, currency=currency, status=status, tier=tier, limit=limit, cursor=cursor
    )


def wallet_suspend(*, wallet_id: str, reason: str) -> WalletDTO:
    """active → suspended: the wallet can neither send nor receive (`limits_reserve` answers
    `wallet_not_active`). `reason` (1-500 characters) is recorded.

    Errors: 400 `validation_error` (wallet_id, reason); 404 `wallet_not_found`; 409
    `invalid_transition` (the wallet is not active; `extra` carries `status`).
    Events: `wallet.suspended`. Audit: `wallet.suspended` with the reason.
    """
    return services.wallet_suspend(wallet_id=wallet_id, reason=reason)


def wallet_activate(*, wallet_id: str, reason: str) -> WalletDTO:
    """suspended → active. Errors as wallet_suspend (409 `invalid_transition` unless suspended).
    Events: `wallet.activated`. Audit: `wallet.activated` with the reason."""
    return services.wallet_activate(wallet_id=wallet_id, reason=reason)


def wallet_close(*, wallet_id: str, reason: str, closing_balance: ClosingBalance) -> WalletDTO:
    """active | suspended → closed, for good.

    Wallets cannot read the ledger, so the caller brings the evidence that the wallet is empty:
    close the wallet's ledger account first (`ledger.api.account_close`, which refuses unless
    posted and held are zero and then takes no more postings), read `ledger.api.balance_get`,
    and pass it as `closing_balance`. Wallets refuses unless `posted == held == 0` and records
    the evidence in the audit record and the event.

    Errors: 400 `validation_error` (wallet_id, reason, closing_balance); 404 `wallet_not_found`;
    409 `invalid_transition` (already closed); 422 `balance_not_zero`.
    Events: `wallet.closed` (with `closing_balance`). Audit: `wallet.closed` with the reason.
    """
    return services.wallet_close(wallet_id=wallet_id, reason=reason, closing_balance=closing_balance)


def limits_get(*, wallet_id: str) -> WalletLimitsDTO:
    """The wallet's tier, its limits per flow and what it used of them in the current day and
    month (in the schedule's time zone), and `max_balance`.

    `max_balance` is not checked by wallets (the balance lives in the ledger): orchestration sets
    it as the wallet's ledger account ceiling (`ledger.api.account_set_limits(max_balance=…)`),
    where the ledger enforces it under the account lock, and updates it on `wallet.limit.updated`.

    Errors: 400 `validation_error`; 404 `wallet_not_found`; 422 `currency_not_supported` (a closed
    wallet whose currency the schedule has dropped since).
    """
    return selectors.limits_get(wallet_id)


def limits_reserve(*, wallet_id: str, kind: str, amount: int, currency: str, reference: str) -> ReservationDTO:
    """Count one movement of flow `kind` (cash_in | cash_out | transfer_out) against the wallet's
    per-transaction minimum and maximum and its daily and monthly amount and count limits.

    Call it before moving money; if a later step fails, `limits_release(reference=…)`. A
    reservation that is never released is usage that happened. `reference` (unique per tenant,
    1-200 characters) makes it idempotent: calling again with the same request returns the first
    reservation (`replayed=True`) and counts nothing. A refused reservation leaves no trace, so
    retrying it with the same reference is judged afresh.

    Errors: 400 `validation_error`; 404 `wallet_not_found`; 409 `reference_reused` (the
    reference was used for a different reservation); 422 `wallet_not_active`,
    `currency_mismatch`, `limit_exceeded` (`extra`: `kind`, `limit` — min_amount, max_amount,
    daily_amount, daily_count, monthly_amount or monthly_count —, `limit_value`, `used`); 503
    `limits_busy` (retryable, rare). Events and audit: none (the money movement is the record).
    """
    return limits.limits_reserve(wallet_id=wallet_id, kind=kind, amount=amount, currency=currency, reference=reference)


def limits_release(*, reference: str) -> ReservationDTO:
    """Give a reservation's usage back (a later step of the movement failed). Idempotent: a
    second release gives nothing back and returns the reservation with `replayed=True`. Allowed
    whatever the wallet's status. Usage is given back to the day and month it was counted in; if
    that day is over, only the month (if still current) regains headroom.

    Errors: 400 `validation_error`; 404 `reservation_not_found`.
    """
    return limits.limits_release(reference=reference)


def tiers_get() -> TierScheduleDTO:
    """The tenant's tier schedule (seeded from its product template's defaults on first use)."""
    return tiers.tiers_get()


def tiers_configure(*, schedule: TierSchedule, reason: str) -> TierScheduleDTO:
    """Replace the tenant's tier schedule (the products context's override of the template).

    The schedule must give every currency it offers exactly one tier per KYC level, each tier
    every flow, with min ≤ max and daily ≤ monthly; `time_zone` is an IANA zone. An identical
    schedule changes nothing. Wallets keep their KYC level and get the tier it now maps to.

    Errors: 400 `validation_error` (the field named, e.g. `schedule.tiers[2].flows[0].max_amount`);
    422 `currency_in_use` (a currency with open wallets would lose its tiers).
    Events: `wallet.limit.updated` (scope tier) per tier that changed. Audit:
    `wallet_tiers.configured` with the whole schedule before and after.
    """
    return tiers.tiers_configure(schedule=schedule, reason=reason)
