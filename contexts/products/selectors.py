"""Reads: operations as DTOs."""

from __future__ import annotations

from finfactory.errors import FieldError, NotFound

from .dtos import OperationDTO
from .models import TERMINAL, Operation, OperationStatus


def operation_row(operation_id: object) -> Operation:
    found = Operation.objects.filter(public_id=operation_id).first() if isinstance(operation_id, str) else None
    if found is None:
        raise NotFound("No such operation.", code="not_found",
                       errors=[FieldError("operation_id", "Not found.", "not_found")])  # fmt: skip
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
