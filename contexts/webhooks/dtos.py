"""Frozen values webhooks hands out (re-exported by contexts.webhooks.api). Never model instances."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = [
    "WebhookDeliveryAttemptDTO",
    "WebhookDeliveryDTO",
    "WebhookEndpointCreatedDTO",
    "WebhookEndpointDTO",
    "WebhookSecretRotatedDTO",
]


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


@dataclass(frozen=True)
class WebhookDeliveryAttemptDTO:
    number: int  # 1, 2, …
    status_code: int | None  # the receiver's answer; None when there was none
    error: str  # error class when there was no answer ("ConnectionError", "HostRefused: …")
    latency_ms: int
    response_excerpt: str  # first 1 KB of the response body
    manual: bool  # a redelivery
    at: datetime


@dataclass(frozen=True)
class WebhookDeliveryDTO:
    id: str  # whd_…
    endpoint_id: str
    event_id: str
    event_type: str
    aggregate_type: str
    aggregate_id: str
    sequence: int  # per-aggregate: deliveries may arrive out of order
    status: str  # pending | delivered | failed
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    delivered_at: datetime | None
    created_at: datetime
    attempt_log: tuple[WebhookDeliveryAttemptDTO, ...]


@dataclass(frozen=True)
class WebhookSecretRotatedDTO:
    """A rotation's new secret (the only time it is handed out; kept out of repr())."""

    endpoint_id: str
    secret_last4: str
    previous_secret_expires_at: datetime | None  # until then the previous secret signs too
    secret: str = field(repr=False, default="")
