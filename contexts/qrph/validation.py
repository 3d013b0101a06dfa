"""Checks of caller input: InvalidInput (400 `validation_error`) naming the field, before any write."""

from __future__ import annotations

import re
from datetime import datetime

from finfactory.errors import FieldError, InvalidInput
from finfactory.ids import looks_like
from finfactory.money import require_amount

from .codec import BIC_PATTERN, SCHEMES

MAX_QR_AMOUNT = 999_999_999_999  # "9999999999.99": the 13 characters tag 54 can hold
_REASON = re.compile(r"^[a-z0-9_]{1,64}\Z")


def _invalid(field: str, message: str, code: str = "invalid") -> InvalidInput:
    return InvalidInput(f"{field}: {message}", errors=[FieldError(field, message, code)])


def public_id(prefix: str, value: object, field: str) -> str:
    if not looks_like(prefix, value):
        raise _invalid(field, f"Must be a {prefix}_ id.")
    return value  # type: ignore[return-value]


def wallet_id(value: object, field: str = "wallet_id") -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 40 or not value.isascii() or not value.isprintable():
        raise _invalid(field, "Must be the wallet's public id (1-40 characters).")
    return value


def text(value: object, field: str, *, max_length: int, required: bool = True) -> str:
    """EMV `ans`: printable ASCII (the alternate-language template is the only place for others)."""
    if value is None or value == "":
        if required:
            raise _invalid(field, "This field is required.", "required")
        return ""
    if not isinstance(value, str) or not value.isascii() or not value.isprintable() or value != value.strip():
        raise _invalid(field, "Printable ASCII characters without leading or trailing spaces.")
    if len(value) > max_length:
        raise _invalid(field, f"At most {max_length} characters.", "too_long")
    return value


def mcc(value: object, field: str = "mcc") -> str:
    if not isinstance(value, str) or len(value) != 4 or not (value.isascii() and value.isdigit()):
        raise _invalid(field, "A four-digit merchant category code (ISO 18245).")
    return value


def scheme(value: object, field: str = "scheme") -> str:
    if value not in SCHEMES.values():
        raise _invalid(field, "p2m or p2p.")
    return value  # type: ignore[return-value]


def bic(value: object, field: str = "bic") -> str:
    if not isinstance(value, str) or not BIC_PATTERN.match(value):
        raise _invalid(field, "A Philippine BIC: 8 or 11 upper-case letters and digits, PH in 5-6.")
    return value


def qr_amount(value: object, field: str = "amount") -> int:
    amount = require_amount(value, field=field)
    if amount > MAX_QR_AMOUNT:
        raise _invalid(field, f"At most {MAX_QR_AMOUNT} centavos fit in a QR code.", "amount_out_of_range")
    return amount


def optional_amount(value: object, field: str = "amount") -> int | None:
    return None if value is None else qr_amount(value, field)


def reference(value: object, field: str = "reference") -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 200 or not value.isprintable():
        raise _invalid(field, "1-200 printable characters.")
    return value


def reason(value: object, field: str = "reason") -> str:
    if not isinstance(value, str) or not _REASON.match(value):
        raise _invalid(field, "A snake_case code of 1-64 characters.")
    return value


def future_time(value: object, now: datetime, field: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise _invalid(field, "An aware datetime.")
    if value <= now:
        raise _invalid(field, "Must be in the future.", "in_the_past")
    return value
