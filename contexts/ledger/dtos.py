"""Frozen values the ledger hands out (re-exported by contexts.ledger.api). Never model instances."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Line:
    """One requested posting: a debit or credit of a positive amount on one account."""

    account_id: str
    direction: str  # "debit" | "credit"
    amount: int
    currency: str


@dataclass(frozen=True)
class AccountDTO:
    id: str
    currency: str
    type: str
    normal_balance: str
    name: str
    owner_ref: str
    system_code: str | None
    status: str
    overdraft_limit: int | None
    max_balance: int | None
    posted: int
    held: int
    available: int
    last_sequence: int
    created_at: datetime


@dataclass(frozen=True)
class BalanceDTO:
    account_id: str
    currency: str
    posted: int
    held: int
    available: int
    sequence: int


@dataclass(frozen=True)
class PostingDTO:
    entry_id: str
    line: int
    account_id: str
    direction: str
    amount: int
    currency: str
    sequence: int
    balance_after: int
    posted_at: datetime


@dataclass(frozen=True)
class EntryDTO:
    id: str
    external_ref: str
    kind: str
    description: str
    metadata: dict
    effective_at: datetime
    posted_at: datetime
    reverses_id: str | None
    hold_id: str | None
    postings: tuple[PostingDTO, ...]
    hash: str
    replayed: bool = False


@dataclass(frozen=True)
class HoldDTO:
    id: str
    external_ref: str
    account_id: str
    credit_account_id: str
    amount: int
    currency: str
    captured_amount: int
    status: str
    description: str
    metadata: dict
    expires_at: datetime
    created_at: datetime
    finished_at: datetime | None
    capture_entry_id: str | None = None
    replayed: bool = False


@dataclass(frozen=True)
class StatementLine:
    sequence: int
    entry_id: str
    external_ref: str
    kind: str
    description: str
    direction: str
    amount: int
    balance_after: int
    posted_at: datetime
    effective_at: datetime


@dataclass(frozen=True)
class Statement:
    """Opening and closing balances of [start, end) and the lines between them.

    `lines` is a one-shot iterator that reads the postings in fixed-size batches: a statement of
    any length is produced in constant memory (the balances come from the postings' stored
    balance_after, so nothing is recomputed).
    """

    account_id: str
    currency: str
    start: datetime
    end: datetime
    opening_balance: int
    closing_balance: int
    line_count: int
    lines: Iterator[StatementLine] = field(repr=False, compare=False)


@dataclass(frozen=True)
class TrialBalanceRow:
    currency: str
    debit_normal_total: int
    credit_normal_total: int
    accounts: int

    @property
    def difference(self) -> int:
        return self.debit_normal_total - self.credit_normal_total
