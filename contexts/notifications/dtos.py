"""Frozen values notifications hands out (re-exported by contexts.notifications.api)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["NotificationDTO", "PreferenceDTO", "RecipientDTO"]


@dataclass(frozen=True)
class RecipientDTO:
    customer_id: str
    has_email: bool
    has_phone: bool
    has_push_token: bool
    locale: str


@dataclass(frozen=True)
class PreferenceDTO:
    customer_id: str
    channel: str
    category: str
    opted_out: bool


@dataclass(frozen=True)
class NotificationDTO:
    id: str  # ntf_…
    source_event_id: str
    kind: str
    channel: str
    customer_id: str
    status: str
    attempts: int
    subject: str
    body: str
    last_error: str
    created_at: datetime
    sent_at: datetime | None
