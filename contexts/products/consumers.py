"""Subscriptions: what orchestration waits for, by event name.

- A fraud reviewer's decision (`risk.approved` / `risk.declined` with source "review") lets a held
  operation go on or be compensated.
- The QR Ph network's answer (`qr.payment.confirmed` / `qr.payment.failed`) lets an off-us QR
  payment capture or release its hold.
- A wallet's tier change (`wallet.limit.updated`) moves its ledger account's ceiling: the ledger
  enforces the maximum balance under its row lock (contexts/wallets/README.md).
- Every posted entry (`journal.posted`) feeds the transactions read model.

Handlers do database work only; the operation's next step runs in its own task after commit.
"""

from __future__ import annotations

from django.utils.dateparse import parse_datetime

from finfactory.errors import PlatformError
from finfactory.events.subscribers import Event, subscribe

from . import dispatch
from .ceilings import wallet_ceiling_apply, wallet_tier_ceilings_apply
from .models import TERMINAL, Operation, OperationStatus
from .transactions import fee_line, record_postings


@subscribe("risk.approved", name="products.risk_review_approved")
@subscribe("risk.declined", name="products.risk_review_declined")
def risk_reviewed(event: Event) -> None:
    if event.data.get("source") != "review":
        return  # the scoring's own decision was answered to the step that asked for it
    decision = "approve" if event.type == "risk.approved" else "decline"
    operation = (
        Operation.objects.select_for_update()
        .filter(assessment_id=event.data["assessment_id"], status=OperationStatus.PENDING_REVIEW)
        .first()
    )
    if operation is None:
        return
    operation.risk_decision = decision
    operation.save(update_fields=["risk_decision", "updated_at"])
    dispatch.advance_after_commit(operation.public_id)


@subscribe("qr.payment.confirmed", name="products.qr_payment_confirmed")
@subscribe("qr.payment.failed", name="products.qr_payment_failed")
def qr_payment_decided(event: Event) -> None:
    found = (
        Operation.objects.filter(qr_payment_id=event.data["payment_id"])
        .exclude(status__in=TERMINAL)
        .values_list("public_id", flat=True)
        .first()
    )
    if found is not None:
        dispatch.advance_after_commit(found)


@subscribe("wallet.limit.updated", name="products.wallet_ceiling")
def wallet_limits_changed(event: Event) -> None:
    data = event.data
    try:
        if data["scope"] == "wallet":
            wallet_ceiling_apply(wallet_id=data["wallet_id"], max_balance=data["max_balance"])
        else:
            wallet_tier_ceilings_apply(currency=data["currency"], tier=data["tier"], max_balance=data["max_balance"])
    except PlatformError as exc:
        if exc.status != 404:  # a wallet opened outside the product has no account to limit
            raise


@subscribe("journal.posted", name="products.transactions")
def journal_posted(event: Event) -> None:
    """Entries posted outside the product's workflows (an operator's adjustment) reach the
    transactions too; the workflows' own are already there (a conflict: nothing written)."""
    data = event.data
    count = len(data["postings"])
    record_postings(
        entry_id=data["entry_id"],
        external_ref=data["external_ref"],
        posted_at=parse_datetime(data["posted_at"]),
        postings=[
            (
                line,
                p["account_id"],
                p["direction"],
                p["amount"],
                p["currency"],
                p["balance_after"],
                fee_line(data["external_ref"], line, p["direction"], count),
            )
            for line, p in enumerate(data["postings"], start=1)
        ],
    )
