"""Notifications' public face: the only module another context (the orchestration layer) imports.

Keyword-only functions taking and returning frozen DTOs (dtos.py). Errors: 400 `validation_error`
(finfactory.errors.InvalidInput) whose FieldError names the field; a refusal writes nothing.
Notifications themselves are created from events (consumers.py), not through this module.
"""

from __future__ import annotations

from . import selectors, services
from .dtos import NotificationDTO, PreferenceDTO, RecipientDTO

__all__ = [
    "NotificationDTO",
    "PreferenceDTO",
    "RecipientDTO",
    "dead_letters_retry",
    "notification_list",
    "preference_list",
    "preference_set",
    "recipient_set",
]


def recipient_set(
    *, customer_id: str, email: str | None = None, phone: str | None = None, push_token: str | None = None,
    locale: str = "en",
) -> RecipientDTO:  # fmt: skip
    """Create or replace how a customer is reached (stored encrypted; None: no address on that
    channel, whose notifications are then recorded `skipped_no_address`). Retries of pending
    notifications use the address current at send time.

    Errors: 400 `validation_error` (customer_id: required, invalid; email: invalid; phone: invalid,
    E.164 required; push_token: invalid; locale: invalid). Events: none.
    """
    return selectors.recipient_dto(
        services.recipient_set(customer_id=customer_id, email=email, phone=phone, push_token=push_token, locale=locale)
    )


def preference_set(*, customer_id: str, channel: str, category: str, opted_out: bool) -> PreferenceDTO:
    """Opt a customer out of (or back into) a category (`kyc`, `money`, `security`) on a channel
    (`email`, `sms`, `push`). Everyone is opted in until they opt out.

    Errors: 400 `validation_error` (customer_id, channel, category, opted_out: invalid;
    category: `not_optional` for opting out of `security`). Events: none.
    """
    return selectors.preference_dto(
        services.preference_set(customer_id=customer_id, channel=channel, category=category, opted_out=opted_out)
    )


def preference_list(*, customer_id: str) -> tuple[PreferenceDTO, ...]:
    """The customer's stored preferences (absent: opted in)."""
    return selectors.preference_list(customer_id=customer_id)


def notification_list(*, customer_id: str, limit: int = 50) -> tuple[NotificationDTO, ...]:
    """The customer's notifications, newest first (at most 200), with status and rendered text."""
    return selectors.notification_list(customer_id=customer_id, limit=limit)


def dead_letters_retry(*, notification_ids: list[str] | None = None) -> int:
    """Put dead letters (all of the tenant's, or these ids) back to pending with a fresh attempt
    budget; returns how many. Events: later notification.sent / .dead_lettered as they go."""
    return services.dead_letters_retry(notification_ids=notification_ids)
