"""Events orchestration publishes (through the outbox, in the transaction of the step that
finishes or parks an operation). Consumers subscribe by name and must not import this module."""

from finfactory.events.catalog import EventType
from finfactory.events.schema import CURRENCY, strict_object

_OPERATION = strict_object(
    {
        "operation_id": {"type": "string", "pattern": "^(cin|cout|trf|qrp|wcl)_[0-9a-z]{26}$"},
        "kind": {"enum": ["cash_in", "cash_out", "transfer", "qr_payment", "wallet_close"]},
        "status": {"enum": ["succeeded", "failed", "pending_review"]},
        "wallet_id": {"type": "string", "minLength": 1, "maxLength": 40},
        "counterparty_wallet_id": {"type": ["string", "null"], "maxLength": 40},
        "amount": {"type": "integer", "minimum": 0},
        "fee": {"type": "integer", "minimum": 0},
        "currency": CURRENCY,
        "transaction_id": {"type": ["string", "null"]},
        "failure_code": {"type": ["string", "null"]},
    }
)


def _event(name: str, description: str) -> EventType:
    return EventType(name=name, version=1, aggregate_type="operation", description=description, schema=_OPERATION)


OPERATION_SUCCEEDED = _event("operation.succeeded", "A product operation completed: its money moved (transaction_id).")
OPERATION_FAILED = _event(
    "operation.failed",
    "A product operation failed (failure_code, e.g. risk_declined); whatever it had reserved was given back.",
)
OPERATION_PENDING = _event(
    "operation.pending", "A product operation is held for a fraud review: its funds are held until a reviewer decides."
)

EVENTS = [OPERATION_SUCCEEDED, OPERATION_FAILED, OPERATION_PENDING]
