"""The ledger's public face: the only module another context (the orchestration layer) imports.

Plain keyword-only functions taking and returning frozen DTOs. Amounts are integers in minor
units next to an ISO 4217 currency. Every money-moving call takes an `external_ref`, unique per
tenant: calling again with the same reference and the same request returns the first result
(`replayed=True`) and moves nothing; the same reference with a different request is refused
(409 `external_ref_reused`).

Errors are finfactory.errors exceptions with stable codes: `insufficient_funds`,
`max_balance_exceeded`, `currency_mismatch`, `account_not_active`, `already_reversed`,
`hold_expired`, … and `ledger_busy` (RetryableError) when an account stays locked past the
lock timeout.
"""

from __future__ import annotations

from datetime import datetime

from finfactory.pages import Page

from . import holds, selectors, services
from .dtos import (
    AccountDTO,
    BalanceDTO,
    EntryDTO,
    HoldDTO,
    Line,
    PostingDTO,
    Statement,
    StatementLine,
    TrialBalanceRow,
)

__all__ = [
    "AccountDTO",
    "BalanceDTO",
    "EntryDTO",
    "HoldDTO",
    "Line",
    "Page",
    "PostingDTO",
    "Statement",
    "StatementLine",
    "TrialBalanceRow",
    "account_close",
    "account_freeze",
    "account_get",
    "account_open",
    "account_set_limits",
    "account_statement",
    "account_unfreeze",
    "accounts_list",
    "balance_get",
    "entry_get",
    "entry_post",
    "entry_reverse",
    "hold_capture",
    "hold_create",
    "hold_get",
    "hold_release",
    "postings_list",
    "system_account",
    "transfer",
    "trial_balance",
]  # fmt: skip


def account_open(
    *,
    currency: str,
    type: str,
    owner_ref: str = "",
    name: str = "",
    overdraft_limit: int | None = None,
    max_balance: int | None = None,
) -> AccountDTO:
    return services.account_open(
        currency=currency, type=type, owner_ref=owner_ref, name=name, overdraft_limit=overdraft_limit,
        max_balance=max_balance,
    )  # fmt: skip


def account_get(*, account_id: str) -> AccountDTO:
    return selectors.account_get(account_id)


def accounts_list(
    *, owner_ref: str | None = None, currency: str | None = None, limit: int = 20, cursor: str | None = None
) -> Page:
    """Accounts oldest first, optionally of one owner or currency; pass `next_cursor` back for more."""
    return selectors.accounts_list(owner_ref=owner_ref, currency=currency, limit=limit, cursor=cursor)


def system_account(*, code: str, currency: str) -> AccountDTO:
    """float, settlement, fees, suspense, payouts_in_transit, chargebacks or equity; created on demand."""
    return services.system_account(code, currency)


def account_freeze(*, account_id: str) -> AccountDTO:
    return services.account_freeze(account_id=account_id)


def account_unfreeze(*, account_id: str) -> AccountDTO:
    return services.account_unfreeze(account_id=account_id)


def account_close(*, account_id: str) -> AccountDTO:
    return services.account_close(account_id=account_id)


def account_set_limits(*, account_id: str, overdraft_limit: int | None, max_balance: int | None) -> AccountDTO:
    return services.account_set_limits(account_id=account_id, overdraft_limit=overdraft_limit, max_balance=max_balance)


def entry_post(
    *,
    external_ref: str,
    postings: list[Line],
    description: str = "",
    metadata: dict | None = None,
    effective_at: datetime | None = None,
) -> EntryDTO:
    return services.entry_post(
        external_ref=external_ref, postings=postings, description=description, metadata=metadata,
        effective_at=effective_at,
    )  # fmt: skip


def entry_get(*, entry_id: str) -> EntryDTO:
    return selectors.entry_get(entry_id)


def transfer(
    *,
    external_ref: str,
    debit_account_id: str,
    credit_account_id: str,
    amount: int,
    currency: str,
    description: str = "",
    metadata: dict | None = None,
) -> EntryDTO:
    return services.transfer(
        external_ref=external_ref, debit_account_id=debit_account_id, credit_account_id=credit_account_id,
        amount=amount, currency=currency, description=description, metadata=metadata,
    )  # fmt: skip


def entry_reverse(
    *, entry_id: str, external_ref: str, amount: int | None = None, description: str = "", metadata: dict | None = None
) -> EntryDTO:
    return services.entry_reverse(
        entry_id=entry_id, external_ref=external_ref, amount=amount, description=description, metadata=metadata
    )


def hold_create(
    *,
    external_ref: str,
    account_id: str,
    credit_account_id: str,
    amount: int,
    currency: str,
    expires_at: datetime | None = None,
    description: str = "",
    metadata: dict | None = None,
) -> HoldDTO:
    return holds.hold_create(
        external_ref=external_ref, account_id=account_id, credit_account_id=credit_account_id, amount=amount,
        currency=currency, expires_at=expires_at, description=description, metadata=metadata,
    )  # fmt: skip


def hold_capture(
    *, hold_id: str, external_ref: str, amount: int | None = None, description: str = "", metadata: dict | None = None
) -> HoldDTO:
    return holds.hold_capture(
        hold_id=hold_id, external_ref=external_ref, amount=amount, description=description, metadata=metadata
    )


def hold_release(*, hold_id: str) -> HoldDTO:
    return holds.hold_release(hold_id=hold_id)


def hold_get(*, hold_id: str) -> HoldDTO:
    return selectors.hold_get(hold_id)


def balance_get(*, account_id: str) -> BalanceDTO:
    return selectors.balance_get(account_id)


def postings_list(*, account_id: str, limit: int = 20, cursor: str | None = None) -> Page:
    """The account's postings, newest first; pass `next_cursor` back for the next page."""
    return selectors.postings_list(account_id, limit=limit, cursor=cursor)


def account_statement(*, account_id: str, start: datetime, end: datetime) -> Statement:
    """Opening balance, lines and closing balance of [start, end), streamed in constant memory."""
    return selectors.account_statement(account_id, start=start, end=end)


def trial_balance() -> list[TrialBalanceRow]:
    return selectors.trial_balance()
