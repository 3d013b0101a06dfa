"""Events qrph publishes (through the outbox, in the transaction of the change). Ids and amounts
only: no payload, names or account numbers. Consumers subscribe by name and must not import this."""

from finfactory.events.catalog import EventType
from finfactory.events.schema import CURRENCY, strict_object

_QR_ID = {"type": "string", "pattern": "^qr_[0-9a-z]{26}$"}
_PAYMENT_ID = {"type": "string", "pattern": "^qrp_[0-9a-z]{26}$"}
_MERCHANT_ID = {"type": "string", "pattern": "^qrm_[0-9a-z]{26}$"}
_WALLET_ID = {"type": "string", "minLength": 1, "maxLength": 40}
_NULLABLE_WALLET_ID = {"type": ["string", "null"], "minLength": 1, "maxLength": 40}
_AMOUNT = {"type": "integer", "minimum": 1}
_ROUTE = {"enum": ["on_us", "off_us"]}
_REFERENCE = {"type": "string", "maxLength": 200}


QR_GENERATED = EventType(
    name="qr.generated",
    version=1,
    aggregate_type="qr_code",
    description="The tenant issued a QR Ph code for a merchant profile's wallet (static: no amount).",
    schema=strict_object(
        {
            "qr_code_id": _QR_ID,
            "merchant_profile_id": _MERCHANT_ID,
            "wallet_id": _WALLET_ID,
            "type": {"enum": ["static", "dynamic"]},
            "amount": {"type": ["integer", "null"], "minimum": 1},
            "currency": CURRENCY,
            "expires_at": {"type": ["string", "null"], "format": "date-time"},
        }
    ),
)

_PAYMENT = {
    "payment_id": _PAYMENT_ID,
    "route": _ROUTE,
    "payer_wallet_id": _WALLET_ID,
    "receiving_wallet_id": _NULLABLE_WALLET_ID,
    "qr_code_id": {"oneOf": [_QR_ID, {"type": "null"}]},
    "amount": _AMOUNT,
    "currency": CURRENCY,
}

QR_PAYMENT_RECEIVED = EventType(
    name="qr.payment.received",
    version=1,
    aggregate_type="qr_payment",
    description=(
        "A QR payment was accepted (pending). on_us: orchestration settles it through the ledger and reports "
        "back; off_us: it went to the QR Ph network."
    ),
    schema=strict_object({**_PAYMENT, "status": {"const": "pending"}}),
)

QR_PAYMENT_CONFIRMED = EventType(
    name="qr.payment.confirmed",
    version=1,
    aggregate_type="qr_payment",
    description="A QR payment settled: on-us through the ledger, off-us confirmed by the network.",
    schema=strict_object(
        {
            **_PAYMENT,
            "status": {"const": "confirmed"},
            "network_reference": _REFERENCE,
            "settlement_reference": _REFERENCE,
        }
    ),
)

QR_PAYMENT_FAILED = EventType(
    name="qr.payment.failed",
    version=1,
    aggregate_type="qr_payment",
    description="A QR payment failed for good (`reason` a snake_case code); a dynamic code may be paid again.",
    schema=strict_object(
        {**_PAYMENT, "status": {"const": "failed"}, "reason": {"type": "string", "pattern": "^[a-z0-9_]{1,64}$"}}
    ),
)

EVENTS = [QR_GENERATED, QR_PAYMENT_RECEIVED, QR_PAYMENT_CONFIRMED, QR_PAYMENT_FAILED]
