"""Money in the kernel: ISO 4217 currencies and integer minor units.

Amounts are always integers in the currency's minor unit (PHP 12.34 is 1234) next to an explicit
currency code; there are no floats and no implicit conversion anywhere in the platform. Only
currencies with a defined minor unit are accepted (this excludes precious metals and testing
codes such as XAU or XXX, whose ISO 4217 exponent is "N.A.").
"""

from __future__ import annotations

from functools import cache

import iso4217

from finfactory.errors import FieldError, InvalidInput

# The largest amount the platform accepts in one movement: comfortably inside a signed 64-bit
# integer even after summing many of them into a balance.
MAX_AMOUNT = 10**15


@cache
def currency_exponent(code: str) -> int | None:
    """The number of minor-unit digits of an ISO 4217 code (PHP → 2, JPY → 0), None if unknown."""
    if not isinstance(code, str) or len(code) != 3 or not code.isascii() or not code.isupper():
        return None
    try:
        return iso4217.Currency(code).exponent
    except ValueError:
        return None


def is_currency(code: object) -> bool:
    return isinstance(code, str) and currency_exponent(code) is not None


def require_currency(code: object, *, field: str = "currency") -> str:
    """The code if it is an ISO 4217 currency with a minor unit; InvalidInput naming `field` otherwise."""
    if not is_currency(code):
        raise InvalidInput(
            f"{code!r} is not an ISO 4217 currency code with a minor unit",
            errors=[FieldError(field, "Must be an upper-case ISO 4217 code such as PHP.", "invalid_currency")],
        )
    return code  # type: ignore[return-value]


def require_amount(value: object, *, field: str = "amount", allow_zero: bool = False) -> int:
    """A positive integer number of minor units (bools and floats are refused, however round)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(
            "amount must be an integer number of minor units",
            errors=[FieldError(field, "Must be an integer in minor units (e.g. 1050 for 10.50).", "invalid_amount")],
        )
    if value < 0 or (value == 0 and not allow_zero) or value > MAX_AMOUNT:
        raise InvalidInput(
            "amount is out of range",
            errors=[FieldError(field, f"Must be between 1 and {MAX_AMOUNT} minor units.", "amount_out_of_range")],
        )
    return value


def format_minor(amount: int, currency: str) -> str:
    """1234, "PHP" → "12.34" (for display and reports; never parsed back)."""
    exponent = currency_exponent(currency) or 0
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10**exponent)
    return f"{sign}{whole}.{fraction:0{exponent}d}" if exponent else f"{sign}{whole}"
