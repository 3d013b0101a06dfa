"""Read side of notifications: DTOs only."""

from __future__ import annotations

from .dtos import NotificationDTO, PreferenceDTO, RecipientDTO
from .models import CustomerPreference, Notification, Recipient


def recipient_dto(recipient: Recipient) -> RecipientDTO:
    return RecipientDTO(
        customer_id=recipient.customer_id, has_email=bool(recipient.email), has_phone=bool(recipient.phone),
        has_push_token=bool(recipient.push_token), locale=recipient.locale,
    )  # fmt: skip


def preference_dto(preference: CustomerPreference) -> PreferenceDTO:
    return PreferenceDTO(
        customer_id=preference.customer_id, channel=preference.channel, category=preference.category,
        opted_out=preference.opted_out,
    )  # fmt: skip


def preference_list(*, customer_id: str) -> tuple[PreferenceDTO, ...]:
    return tuple(preference_dto(p) for p in CustomerPreference.objects.filter(customer_id=customer_id))


def notification_dto(n: Notification) -> NotificationDTO:
    return NotificationDTO(
        id=n.public_id, source_event_id=n.event_id, kind=n.kind, channel=n.channel, customer_id=n.customer_id,
        status=n.status, attempts=n.attempts, subject=n.subject, body=n.body, last_error=n.last_error,
        created_at=n.created_at, sent_at=n.sent_at,
    )  # fmt: skip


def notification_list(*, customer_id: str, limit: int = 50) -> tuple[NotificationDTO, ...]:
    rows = Notification.objects.filter(customer_id=customer_id).order_by("-id")[: max(1, min(limit, 200))]
    return tuple(notification_dto(n) for n in rows)
