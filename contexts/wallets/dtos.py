"""Frozen values wallets takes and hands out (re-exported by contexts.wallets.api). Never model
instances. Amounts are integers in minor units of the stated currency; `None` as a limit means
"no limit of that kind"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class WalletDTO:
    id: str
    customer_id: str
    currency: str
    status: str  # active | suspended | closed
    tier: str
    kyc_level: str  # none | basic | full
    status_reason: str
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    replayed: bool = False


@dataclass(frozen=True)
class ClosingBalance:
    """The caller's evidence that the wallet's money is gone, read from the ledger after closing
    the wallet's ledger account (`ledger.api.account_close`, then `balance_get`)."""

    ledger_account_id: str
    posted: int
    held: int
    sequence: int


@dataclass(frozen=True)
class FlowLimits:
    """Limits of one money flow (`cash_in`, `cash_out`, `transfer_out`) in one tier."""

    kind: str
    min_amount: int
    max_amount: int | None
    daily_amount: int | None
    daily_count: int | None
    monthly_amount: int | None
    monthly_count: int | None


@dataclass(frozen=True)
class TierSpec:
    """A tier in one currency: the KYC level it serves, its maximum balance and its flows."""

    code: str
    name: str
    kyc_level: str
    currency: str
    max_balance: int | None
    flows: tuple[FlowLimits, ...]

    def flow(self, kind: str) -> FlowLimits:
        return next(flow for flow in self.flows if flow.kind == kind)


@dataclass(frozen=True)
class TierSchedule:
    """A tenant's tiers: for each currency offered, exactly one tier per KYC level.

    `time_zone` (IANA) is where a day and a month of the daily and monthly limits begin and end.
    """

    time_zone: str
    tiers: tuple[TierSpec, ...]

    def tier_for(self, *, kyc_level: str, currency: str) -> TierSpec | None:
        return next((t for t in self.tiers if t.kyc_level == kyc_level and t.currency == currency), None)

    @property
    def currencies(self) -> tuple[str, ...]:
        return tuple(sorted({tier.currency for tier in self.tiers}))


@dataclass(frozen=True)
class TierScheduleDTO:
    """The schedule in force: where it came from (`source`: template or custom) and its version."""

    template: str
    source: str
    version: int
    updated_at: datetime
    schedule: TierSchedule


@dataclass(frozen=True)
class FlowUsage:
    """A flow's limits next to what the wallet used of them in the current day and month."""

    limits: FlowLimits
    day_amount: int
    day_count: int
    month_amount: int
    month_count: int

    @property
    def kind(self) -> str:
        return self.limits.kind


@dataclass(frozen=True)
class WalletLimitsDTO:
    """Everything orchestration needs to check a movement: the tier's limits, the usage of the
    current period (`day`, `month` in `time_zone`), and `max_balance`, which wallets cannot check
    because the balance lives in the ledger (see the README)."""

    wallet_id: str
    currency: str
    tier: str
    kyc_level: str
    max_balance: int | None
    time_zone: str
    day: date
    month: date
    flows: tuple[FlowUsage, ...]

    def flow(self, kind: str) -> FlowUsage:
        return next(flow for flow in self.flows if flow.kind == kind)


@dataclass(frozen=True)
class ReservationDTO:
    id: str
    reference: str
    wallet_id: str
    kind: str
    amount: int
    currency: str
    status: str  # reserved | released
    day: date
    month: date
    created_at: datetime
    released_at: datetime | None
    replayed: bool = False
