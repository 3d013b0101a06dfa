"""The transactions read model: one row per posting on a wallet's ledger account, with the
account's `balance_after`, typed by the operation that made it.

Rows are written in the saga step that posted the entry (the client that just moved money sees
it at once), and again — harmlessly, `ON CONFLICT DO NOTHING` on (entry, line) — from
`journal.posted`, which also brings entries posted outside the product's workflows (an operator's
adjustment through /internal/ledger). A wallet's list is one index range scan on (wallet, id),
however many transactions it has.
"""

from __future__ import annotations

from django.db import connection

from contexts.ledger import api as ledger_api
from finfactory.ids import new_id

from .models import WalletAccount
from .saga import PREFIXES

PREFIX_KINDS = {prefix: kind for kind, prefix in PREFIXES.items()}
# (operation kind, step, direction) → the transaction's type; the step "fee" is a fee, "reverse"
# a reversal whatever the operation.
_TYPES = {
    ("cash_in", "credit"): "cash_in",
    ("cash_out", "debit"): "cash_out",
    ("transfer", "debit"): "transfer_out",
    ("transfer", "credit"): "transfer_in",
    ("qr_payment", "debit"): "qr_payment",
    ("qr_payment", "credit"): "qr_payment_received",
}
TYPES = (
    "cash_in",
    "cash_out",
    "transfer_out",
    "transfer_in",
    "qr_payment",
    "qr_payment_received",
    "fee",
    "reversal",
    "adjustment",
)


def operation_of(external_ref: str) -> tuple[str | None, str | None, str]:
    """(operation id, operation kind, step) of an entry's external reference `<op id>:<step>`."""
    operation_id, _, step = external_ref.partition(":")
    kind = PREFIX_KINDS.get(operation_id.partition("_")[0])
    return (operation_id, kind, step) if kind else (None, None, "")


def transaction_type(external_ref: str, direction: str, *, fee_line: bool) -> str:
    _, kind, step = operation_of(external_ref)
    if kind is None:
        return "adjustment"
    if step == "reverse":
        return "reversal"
    if step == "fee" or fee_line:
        return "fee"
    return _TYPES.get((kind, direction), "adjustment")


def record_postings(*, entry_id: str, external_ref: str, posted_at, postings) -> int:
    """Record the postings of one entry that fall on wallet accounts; returns how many rows were
    new. `postings`: (line, account_id, direction, amount, currency, balance_after, is_fee)."""
    by_account = dict(
        WalletAccount.objects.filter(account_id__in={p[1] for p in postings}).values_list("account_id", "wallet_id")
    )
    rows = []
    operation_id, _, _ = operation_of(external_ref)
    for line, account_id, direction, amount, currency, balance_after, is_fee in postings:
        wallet_id = by_account.get(account_id)
        if wallet_id is None:
            continue
        rows.append(
            [
                new_id("txn"),
                wallet_id,
                entry_id,
                line,
                transaction_type(external_ref, direction, fee_line=is_fee),
                direction,
                amount,
                currency,
                balance_after,
                operation_id or "",
                posted_at,
            ]
        )
    if not rows:
        return 0
    placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO products_transaction (public_id, wallet_id, entry_id, line, type, direction, amount, "  # noqa: S608 - placeholders only
            f"currency, balance_after, reference_id, created_at) VALUES {placeholders} "
            "ON CONFLICT (entry_id, line) DO NOTHING",
            [value for row in rows for value in row],
        )
        return cursor.rowcount


def fee_line(external_ref: str, line: int, direction: str, line_count: int) -> bool:
    """The saga posts a fee in the same entry as its movement, as lines 3 (the payer's debit) and
    4 (the fees account's credit) of four (workflows._fee_lines)."""
    return operation_of(external_ref)[2] == "post" and line_count == 4 and line == 3 and direction == "debit"


def record_entry(entry) -> int:
    """Record an entry the saga just posted: the EntryDTO the ledger returned (its postings carry
    the balance_after the ledger assigned under its locks), or its id, to read it back."""
    if isinstance(entry, str):
        entry = ledger_api.entry_get(entry_id=entry)
    count = len(entry.postings)
    return record_postings(
        entry_id=entry.id,
        external_ref=entry.external_ref,
        posted_at=entry.posted_at,
        postings=[
            (
                p.line,
                p.account_id,
                p.direction,
                p.amount,
                p.currency,
                p.balance_after,
                fee_line(entry.external_ref, p.line, p.direction, count),
            )
            for p in entry.postings
        ],
    )
