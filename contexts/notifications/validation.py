"""Checks of caller input: InvalidInput (400 `validation_error`) naming the field, before
anything is written."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from finfactory.errors import FieldError, InvalidInput

from .models import Category, Channel

_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}\Z")  # E.164
_LOCALE = re.compile(r"^[a-z]{2,3}([-_][A-Za-z0-9]{2,8})?\Z")
MAX_PUSH_TOKEN = 4096


def invalid(field: str, message: str, code: str = "invalid") -> InvalidInput:
    return InvalidInput(f"{field}: {message}", errors=[FieldError(field, message, code)])


def customer_id_checked(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise invalid("customer_id", "a customer id is required", "required")
    if len(value) > 100 or value != value.strip():
        raise invalid("customer_id", "not a customer id")
    return value


def email_checked(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 254:
        raise invalid("email", "not an e-mail address")
    try:
        validate_email(value)
    except ValidationError:
        raise invalid("email", "not an e-mail address") from None
    return value


def phone_checked(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _PHONE.match(value):
        raise invalid("phone", "an E.164 number is required, e.g. +639171234567")
    return value


def push_token_checked(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_PUSH_TOKEN or not value.isprintable():
        raise invalid("push_token", f"1-{MAX_PUSH_TOKEN} printable characters")
    return value


def locale_checked(value: object) -> str:
    if not isinstance(value, str) or not _LOCALE.match(value):
        raise invalid("locale", "a language tag such as en or fil-PH")
    return value


def channel_checked(value: object) -> str:
    if value not in Channel.values:
        raise invalid("channel", f"one of {', '.join(Channel.values)}")
    return value


def category_checked(value: object) -> str:
    if value not in Category.values:
        raise invalid("category", f"one of {', '.join(Category.values)}")
    return value
