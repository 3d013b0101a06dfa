"""What orchestration's api returns: frozen dataclasses, never model instances."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class OperationDTO:
    """A product operation (cash-in, cash-out, transfer, QR payment, wallet close).

    `status`: succeeded | failed | pending (anything in between: held for a fraud review,
    waiting for the payout or the QR Ph network, or being compensated). `stage` is the saga's
    exact state. `transaction_id` is the ledger entry that moved the money (None until then);
    `failure_code` is the API error code of a failed operation (e.g. risk_declined).
    """

    id: str
    kind: str
    status: str
    stage: str
    wallet_id: str
    counterparty_wallet_id: str | None
    amount: int
    fee: int
    currency: str
    transaction_id: str | None
    fee_transaction_id: str | None
    hold_id: str | None
    assessment_id: str | None
    risk_decision: str | None
    qr_payment_id: str | None
    qr_route: str | None
    payout_id: str | None
    failure_code: str | None
    failure_detail: str | None
    compensated: bool
    reference: str
    created_at: datetime
    finished_at: datetime | None
    replayed: bool = False


@dataclass(frozen=True)
class ProductWalletDTO:
    """A wallet as the product sees it: the wallet and its ledger account."""

    id: str
    customer_id: str
    currency: str
    status: str
    tier: str
    kyc_level: str
    account_id: str
    created_at: datetime
    replayed: bool = False


@dataclass(frozen=True)
class BalanceDTO:
    wallet_id: str
    currency: str
    posted: int
    held: int
    available: int


@dataclass(frozen=True)
class TransactionDTO:
    """One movement on a wallet: `direction` credit | debit, `balance_after` the wallet's posted
    balance after it, `reference_id` the operation (cin_, trf_, …) it belongs to."""

    id: str
    wallet_id: str
    type: str
    direction: str
    amount: int
    currency: str
    balance_after: int
    reference_id: str | None
    entry_id: str
    created_at: datetime
