"""Input checks of identity's writes. Each failure names its field and a stable code; no message
repeats the value it refuses (it may be personal data)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils import timezone

from finfactory.errors import FieldError, InvalidInput

from .dtos import Address
from .models import IdType, KycLevel

MAX_NAME = 100
MAX_EMAIL = 254
MAX_EXTERNAL_ID = 100
ADDRESS_LIMITS = {"line1": 200, "line2": 200, "city": 100, "region": 100, "postal_code": 20, "country": 2}
ADDRESS_REQUIRED = ("line1", "city", "country")
OLDEST_BIRTH_DATE = date(1900, 1, 1)
ID_NUMBER = re.compile(r"^[A-Z0-9]{4,40}$")
_ID_SEPARATORS = re.compile(r"[\s\-./]")
_email = EmailValidator()


def invalid(field: str, message: str, code: str = "invalid") -> InvalidInput:
    return InvalidInput(message, errors=[FieldError(field, message, code)])


def _no_controls(value: str) -> bool:
    return not any(unicodedata.category(char) in ("Cc", "Cf") for char in value)


def text(value: object, field: str, *, max_length: int, required: bool = True) -> str:
    """A trimmed single-line string."""
    if value is None:
        if required:
            raise invalid(field, "Is required.", "required")
        return ""
    if not isinstance(value, str):
        raise invalid(field, "Must be a string.", "invalid_type")
    value = value.strip()
    if required and not value:
        raise invalid(field, "Must not be blank.", "required")
    if len(value) > max_length:
        raise invalid(field, f"Must be at most {max_length} characters.", "too_long")
    if not _no_controls(value):
        raise invalid(field, "Must not contain control characters.", "invalid_characters")
    return value


def name(value: object, field: str) -> str:
    value = text(value, field, max_length=MAX_NAME)
    if not any(char.isalpha() for char in value):
        raise invalid(field, "Must contain letters.", "invalid_name")
    return unicodedata.normalize("NFC", value)


def email(value: object, field: str = "email") -> str:
    value = text(value, field, max_length=MAX_EMAIL)
    try:
        _email(value)
    except ValidationError:
        raise invalid(field, "Must be an e-mail address.", "invalid_email") from None
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def phone(value: object, field: str = "phone") -> str | None:
    """E.164 (`+639171234567`); spaces and dashes are tolerated on input, never stored."""
    if value is None:
        return None
    value = text(value, field, max_length=32)
    if not value.startswith("+"):
        raise invalid(field, "Must be in E.164 form, starting with + and the country code.", "invalid_phone")
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise invalid(field, "Must be a valid E.164 phone number.", "invalid_phone") from None
    if not phonenumbers.is_valid_number(parsed):
        raise invalid(field, "Must be a valid E.164 phone number.", "invalid_phone")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def birth_date(value: object, field: str = "birth_date") -> date | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise invalid(field, "Must be a date (YYYY-MM-DD).", "invalid_date") from None
    if not isinstance(value, date) or hasattr(value, "hour"):
        raise invalid(field, "Must be a date (YYYY-MM-DD).", "invalid_date")
    if value > timezone.now().date():
        raise invalid(field, "Must not be in the future.", "date_in_future")
    if value < OLDEST_BIRTH_DATE:
        raise invalid(field, f"Must be on or after {OLDEST_BIRTH_DATE.isoformat()}.", "date_too_old")
    return value


def country(value: object, field: str) -> str:
    if not isinstance(value, str) or value not in phonenumbers.SUPPORTED_REGIONS:
        raise invalid(field, "Must be an ISO 3166-1 alpha-2 country code in capitals, such as PH.", "invalid_country")
    return value


def address(value: object, field: str = "address") -> Address | None:
    if value is None:
        return None
    if isinstance(value, Address):
        value = value.as_dict()
    if not isinstance(value, dict):
        raise invalid(field, "Must be an object.", "invalid_type")
    unknown = sorted(str(key) for key in value if key not in ADDRESS_LIMITS)
    if unknown:
        raise invalid(f"{field}.{unknown[0]}", "Unknown field.", "unknown_field")
    parts = {
        key: text(value.get(key), f"{field}.{key}", max_length=limit, required=key in ADDRESS_REQUIRED)
        for key, limit in ADDRESS_LIMITS.items()
    }
    parts["country"] = country(parts["country"], f"{field}.country")
    return Address(**parts)


def external_id(value: object, field: str = "external_id") -> str | None:
    if value is None:
        return None
    value = text(value, field, max_length=MAX_EXTERNAL_ID)
    if any(char.isspace() for char in value):
        raise invalid(field, "Must not contain spaces.", "invalid_characters")
    return value


def public_id(value: object, field: str, prefix: str) -> str:
    if not isinstance(value, str) or not value.startswith(f"{prefix}_") or len(value) > 40:
        raise invalid(field, f"Must be an id starting with {prefix}_.", "invalid_id")
    return value


def id_type(value: object, field: str = "id_type") -> str:
    if value not in IdType.values:
        raise invalid(field, f"Must be one of {', '.join(IdType.values)}.", "invalid_choice")
    return value  # type: ignore[return-value]


def id_number(value: object, field: str = "id_number") -> str:
    """The canonical form: upper case, without spaces, dashes, dots or slashes."""
    value = text(value, field, max_length=64)
    canonical = _ID_SEPARATORS.sub("", value).upper()
    if not ID_NUMBER.match(canonical):
        raise invalid(field, "Must be 4-40 letters and digits (spaces and dashes are ignored).", "invalid_id_number")
    return canonical


def level(value: object, field: str = "level") -> str:
    if value not in (KycLevel.BASIC, KycLevel.FULL):
        raise invalid(field, "Must be basic or full.", "invalid_choice")
    return str(value)
