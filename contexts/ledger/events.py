"""Events the ledger publishes (through the outbox, in the transaction that moves the money).

Amounts are integers in minor units next to their currency; ids are public ids. Consumers
subscribe by name through the kernel and must not import this module.
"""

from finfactory.events.catalog import EventType
from finfactory.events.schema import CURRENCY, DATE_TIME, strict_object

_ID = {"type": "string", "minLength": 1, "maxLength": 100}
_AMOUNT = {"type": "integer", "minimum": 0}
_SIGNED = {"type": "integer"}
_NULLABLE_ID = {"type": ["string", "null"]}


JOURNAL_POSTED = EventType(
    name="journal.posted",
    version=1,
    aggregate_type="journal_entry",
    description="A balanced journal entry was posted (transfer, capture, reversal or generic entry).",
    schema=strict_object(
        {
            "entry_id": _ID,
            "external_ref": {"type": "string"},
            "kind": {"enum": ["standard", "transfer", "hold_capture", "reversal"]},
            "description": {"type": "string"},
            "effective_at": DATE_TIME,
            "posted_at": DATE_TIME,
            "reverses": _NULLABLE_ID,
            "hold_id": _NULLABLE_ID,
            "metadata": {"type": "object"},
            "postings": {
                "type": "array",
                "minItems": 2,
                "items": strict_object(
                    {
                        "account_id": _ID,
                        "direction": {"enum": ["debit", "credit"]},
                        "amount": {"type": "integer", "minimum": 1},
                        "currency": CURRENCY,
                        "sequence": {"type": "integer", "minimum": 1},
                        "balance_after": _SIGNED,
                    }
                ),
            },
        }
    ),
)

BALANCE_UPDATED = EventType(
    name="balance.updated",
    version=1,
    aggregate_type="ledger_account",
    description="An account's posted, held or available balance changed.",
    schema=strict_object(
        {
            "account_id": _ID,
            "owner_ref": {"type": "string"},
            "currency": CURRENCY,
            "posted": _SIGNED,
            "held": _AMOUNT,
            "available": _SIGNED,
            "sequence": {"type": "integer", "minimum": 0},
            "cause": {"enum": ["entry", "hold_created", "hold_released"]},
            "cause_id": _ID,
        }
    ),
)

HOLD_CREATED = EventType(
    name="hold.created",
    version=1,
    aggregate_type="ledger_hold",
    description="Funds were reserved on an account until captured, released or expired.",
    schema=strict_object(
        {
            "hold_id": _ID,
            "external_ref": {"type": "string"},
            "account_id": _ID,
            "credit_account_id": _ID,
            "amount": {"type": "integer", "minimum": 1},
            "currency": CURRENCY,
            "expires_at": DATE_TIME,
        }
    ),
)

HOLD_RELEASED = EventType(
    name="hold.released",
    version=1,
    aggregate_type="ledger_hold",
    description=(
        "A hold ended and gave back its reservation: captured (the uncaptured rest is released), released, or expired."
    ),
    schema=strict_object(
        {
            "hold_id": _ID,
            "account_id": _ID,
            "status": {"enum": ["captured", "released", "expired"]},
            "amount": {"type": "integer", "minimum": 1},
            "captured_amount": _AMOUNT,
            "released_amount": _AMOUNT,
            "currency": CURRENCY,
            "capture_entry_id": _NULLABLE_ID,
        }
    ),
)

TRANSACTION_REVERSED = EventType(
    name="transaction.reversed",
    version=1,
    aggregate_type="journal_entry",
    description="A posted entry was reversed in full or in part by a new, opposite entry.",
    schema=strict_object(
        {
            "entry_id": _ID,
            "reversal_entry_id": _ID,
            "external_ref": {"type": "string"},
            "amount": {"type": ["integer", "null"], "minimum": 1},
            "full": {"type": "boolean"},
            "fully_reversed": {"type": "boolean"},
        }
    ),
)

EVENTS = [JOURNAL_POSTED, BALANCE_UPDATED, HOLD_CREATED, HOLD_RELEASED, TRANSACTION_REVERSED]
