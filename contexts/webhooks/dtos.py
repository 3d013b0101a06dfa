"""Frozen values webhooks hands out (re-exported by contexts.webhooks.api). Never model instances."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["WebhookEndpointCreatedDTO", "WebhookEndpointDTO"]


@dataclass(frozen=True)
class WebhookEndpointDTO:
    id: str  # we_…
    url: str
    events: tuple[str, ...]  # patterns as subscribed: "wallet.created", "wallet.*", "*"
    description: str
    enabled: bool
    secret_last4: str  # the secret's last characters, to tell secrets apart; never the secret
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


@dataclass(frozen=True)
class WebhookEndpointCreatedDTO(WebhookEndpointDTO):
    """The endpoint just created, with its signing secret: the only time the secret is handed out
    to the tenant. Kept out of repr() so that a logged DTO does not leak it."""

    secret: str = field(repr=False, default="")
