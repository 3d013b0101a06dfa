"""Reads: operations and transactions as DTOs."""

from __future__ import annotations

from django.utils.dateparse import parse_datetime

from finfactory.errors import FieldError, InvalidInput, NotFound
from finfactory.pages import time_keyset_page

from .dtos import OperationDTO, TransactionDTO
from .models import TERMINAL, Operation, OperationStatus, Transaction
from .transactions import TYPES


def operation_row(operation_id: object) -> Operation:
    found = Operation.objects.filter(public_id=operation_id).first() if isinstance(operation_id, str) else None
    if found is None:
        raise NotFound(
            "No such operation.", code="not_found", errors=[FieldError("operation_id", "Not found.", "not_found")]
        )
    return found


def _public_status(op: Operation) -> str:
    if op.status == OperationStatus.SUCCEEDED:
        return "succeeded"
    if op.status == OperationStatus.FAILED:
        return "failed"
    return "pending"


def operation_dto(op: Operation, *, replayed: bool = False) -> OperationDTO:
    return OperationDTO(
        id=op.public_id,
        kind=op.kind,
        status=_public_status(op),
        stage=op.status,
        wallet_id=op.wallet_id,
        counterparty_wallet_id=op.counterparty_wallet_id or None,
        amount=op.amount,
        fee=op.fee,
        currency=op.currency,
        transaction_id=op.entry_id or None,
        fee_transaction_id=op.fee_entry_id or None,
        hold_id=op.hold_id or None,
        assessment_id=op.assessment_id or None,
        risk_decision=op.risk_decision or None,
        qr_payment_id=op.qr_payment_id or None,
        qr_route=op.qr_route or None,
        payout_id=op.payout_id or None,
        failure_code=op.failure_code or None,
        failure_detail=op.failure_detail or None,
        compensated=op.compensated,
        reference=op.reference,
        created_at=op.created_at,
        finished_at=op.finished_at if op.status in TERMINAL else None,
        replayed=replayed,
    )


# --- transactions --------------------------------------------------------------------------------------


def transaction_dto(row: Transaction) -> TransactionDTO:
    return TransactionDTO(
        id=row.public_id,
        wallet_id=row.wallet_id,
        type=row.type,
        direction=row.direction,
        amount=row.amount,
        currency=row.currency,
        balance_after=row.balance_after,
        reference_id=row.reference_id or None,
        entry_id=row.entry_id,
        created_at=row.created_at,
    )


def _moment(value: object, field: str):
    if value is None or value == "":
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None or parsed.tzinfo is None:
        raise InvalidInput(
            f"{field}: an RFC 3339 date-time with its offset.",
            errors=[FieldError(field, "An RFC 3339 date-time with its offset, e.g. 2026-11-30T00:00:00Z.", "invalid")],
        )
    return parsed


def transactions_list(*, wallet_id=None, type=None, created_after=None, created_before=None, limit=20, cursor=None):
    rows = Transaction.objects.all()
    if wallet_id:
        rows = rows.filter(wallet_id=wallet_id)
    if type:
        if type not in TYPES:
            raise InvalidInput(
                "type is not a transaction type.",
                errors=[FieldError("type", f"One of: {', '.join(TYPES)}.", "invalid_choice")],
            )
        rows = rows.filter(type=type)
    after, before = _moment(created_after, "created_after"), _moment(created_before, "created_before")
    if after is not None:
        rows = rows.filter(created_at__gt=after)
    if before is not None:
        rows = rows.filter(created_at__lt=before)
    return time_keyset_page(rows, limit=limit, cursor=cursor, item=transaction_dto)


def transaction_get(transaction_id: object) -> TransactionDTO:
    found = Transaction.objects.filter(public_id=transaction_id).first() if isinstance(transaction_id, str) else None
    if found is None:
        raise NotFound(
            "No such transaction.", code="not_found", errors=[FieldError("transaction_id", "Not found.", "not_found")]
        )
    return transaction_dto(found)
