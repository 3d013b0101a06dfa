"""Input checks shared by every ledger write: each failure names its field and a stable code."""

from __future__ import annotations

import json
from datetime import datetime

from finfactory.errors import FieldError, InvalidInput
from finfactory.money import require_amount, require_currency

from .dtos import Line

MAX_REF = 200
MAX_DESCRIPTION = 500
MAX_METADATA_BYTES = 4096
MAX_METADATA_DEPTH = 5
MAX_POSTINGS = 100
DIRECTIONS = {"debit": "D", "credit": "C"}


def invalid(field: str, message: str, code: str = "invalid") -> InvalidInput:
    return InvalidInput(message, errors=[FieldError(field, message, code)])


def plain_text(value: object, field: str, *, max_length: int, required: bool) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise invalid(field, "Must be a string.", "invalid_type")
    if required and not value.strip():
        raise invalid(field, "Must not be blank.", "required")
    if len(value) > max_length:
        raise invalid(field, f"Must be at most {max_length} characters.", "too_long")
    if "\x00" in value:
        raise invalid(field, "Must not contain NUL characters.", "invalid_characters")
    return value


def external_ref(value: object, field: str = "external_ref") -> str:
    return plain_text(value, field, max_length=MAX_REF, required=True)


def description(value: object, field: str = "description") -> str:
    return plain_text(value, field, max_length=MAX_DESCRIPTION, required=False)


def _check_json(value, field: str, depth: int) -> None:
    if depth > MAX_METADATA_DEPTH:
        raise invalid(field, f"Must nest at most {MAX_METADATA_DEPTH} levels.", "too_deep")
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, str):
        if "\x00" in value:
            raise invalid(field, "Must not contain NUL characters.", "invalid_characters")
        return
    if isinstance(value, float):
        raise invalid(field, "Numbers must be integers (store amounts in minor units).", "invalid_number")
    if isinstance(value, list):
        for item in value:
            _check_json(item, field, depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or "\x00" in key:
                raise invalid(field, "Keys must be strings without NUL characters.", "invalid_key")
            _check_json(item, field, depth + 1)
        return
    raise invalid(field, "Must be JSON: objects, arrays, strings, integers, booleans or null.", "invalid_type")


def metadata(value: object, field: str = "metadata") -> dict:
    """A small JSON object of strings, integers, booleans and nulls (floats would not hash stably)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid(field, "Must be a JSON object.", "invalid_type")
    _check_json(value, field, 1)
    if len(json.dumps(value, ensure_ascii=False).encode()) > MAX_METADATA_BYTES:
        raise invalid(field, f"Must be at most {MAX_METADATA_BYTES} bytes as JSON.", "too_large")
    return value


def moment(value: object, field: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise invalid(field, "Must be a timezone-aware date-time.", "invalid_datetime")
    return value


def account_id(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.startswith("acc_") or len(value) > 40:
        raise invalid(field, "Must be a ledger account id (acc_…).", "invalid_account_id")
    return value


def two_accounts(first: object, first_field: str, second: object, second_field: str) -> tuple[str, str]:
    """Two different ledger account ids (a transfer's or a hold's two sides)."""
    first, second = account_id(first, first_field), account_id(second, second_field)
    if first == second:
        raise invalid(second_field, f"Must differ from {first_field}.", "same_account")
    return first, second


def lines(value: object, field: str = "postings") -> list[Line]:
    if not isinstance(value, list | tuple) or len(value) < 2:
        raise invalid(field, "An entry needs at least two postings.", "too_few_postings")
    if len(value) > MAX_POSTINGS:
        raise invalid(field, f"An entry may have at most {MAX_POSTINGS} postings.", "too_many_postings")
    checked: list[Line] = []
    for index, line in enumerate(value):
        where = f"{field}[{index}]"
        if not isinstance(line, Line):
            raise invalid(where, "Must be a ledger Line.", "invalid_type")
        if line.direction not in DIRECTIONS:
            raise invalid(f"{where}.direction", "Must be 'debit' or 'credit'.", "invalid_direction")
        checked.append(
            Line(
                account_id=account_id(line.account_id, f"{where}.account_id"),
                direction=line.direction,
                amount=require_amount(line.amount, field=f"{where}.amount"),
                currency=require_currency(line.currency, field=f"{where}.currency"),
            )
        )
    totals: dict[str, int] = {}
    for line in checked:
        totals[line.currency] = totals.get(line.currency, 0) + (
            line.amount if line.direction == "debit" else -line.amount
        )
    unbalanced = sorted(currency for currency, total in totals.items() if total)
    if unbalanced:
        raise invalid(
            field, f"Debits must equal credits in each currency ({', '.join(unbalanced)} do not).", "unbalanced_entry"
        )
    return checked
