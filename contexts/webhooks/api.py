"""Webhooks' public face: the only module another context (the orchestration layer) imports.

Keyword-only functions taking and returning frozen DTOs (dtos.py). Errors are finfactory.errors
exceptions with stable codes, and every refusal writes nothing (no row, event or audit record):
400 `validation_error` whose FieldError names the field (`url`, `events`, `events[2]`,
`description`) with its own code (README); 404 `not_found` (field `endpoint_id`) for an id that
is not a live endpoint of the current tenant — another tenant's id included, since each tenant's
endpoints live in its own schema.

Delivery itself (fan-out from the events, signing with `FinFactory-Signature`, retries, the
delivery log, auto-disable) runs inside the context (consumers.py, delivery.py, tasks.py); this
module exposes the log, redelivery and secret rotation.
"""

from __future__ import annotations

from finfactory.pages import Page

from . import selectors, services
from .dtos import (
    WebhookDeliveryAttemptDTO,
    WebhookDeliveryDTO,
    WebhookEndpointCreatedDTO,
    WebhookEndpointDTO,
    WebhookSecretRotatedDTO,
)

__all__ = [
    "Page",
    "WebhookDeliveryAttemptDTO",
    "WebhookDeliveryDTO",
    "WebhookEndpointCreatedDTO",
    "WebhookEndpointDTO",
    "WebhookSecretRotatedDTO",
    "delivery_get",
    "delivery_list",
    "delivery_redeliver",
    "endpoint_create",
    "endpoint_delete",
    "endpoint_disable",
    "endpoint_enable",
    "endpoint_get",
    "endpoint_list",
    "endpoint_secret",
    "endpoint_secret_rotate",
    "endpoints_for_event",
]  # fmt: skip


def endpoint_create(*, url: str, events: list[str], description: str = "") -> WebhookEndpointCreatedDTO:
    """Register an endpoint, enabled, with a new signing secret `whsec_` + 43 url-safe characters —
    returned here and never again (stored encrypted; `secret_last4` tells secrets apart).

    `url`: absolute http(s), ≤ 2048, no credentials, no fragment; https unless
    WEBHOOKS_ALLOW_HTTP; no private/loopback IP literal or localhost unless
    WEBHOOKS_ALLOW_PRIVATE_HOSTS. `events`: 1-100 patterns, each an event type of the catalog,
    `<prefix>.*` (prefix of at least one catalog name, e.g. `wallet.*`, `qr.payment.*`) or `*`;
    duplicates are dropped, order kept. `description`: ≤ 500 printable characters.

    Errors: 400 `validation_error` (url: required, invalid_url, invalid_scheme, invalid_host,
    too_long, credentials_not_allowed, fragment_not_allowed, https_required, private_host;
    events: required, invalid, too_many, and per item `events[i]`: invalid, unknown_event_type;
    description: invalid, too_long); 422 `too_many_endpoints` (50 live endpoints per tenant).
    Events: `webhook_endpoint.created`. Audit: `webhook_endpoint.created`.
    """
    return services.endpoint_create(url=url, events=events, description=description)


def endpoint_list(*, limit: int = 20, cursor: str | None = None) -> Page:
    """Live endpoints, newest first: `Page(items=(WebhookEndpointDTO, …), next_cursor)`; pass
    `next_cursor` back as `cursor`. Errors: 400 `validation_error` (limit 1-100: invalid_limit),
    `invalid_cursor`."""
    return selectors.endpoint_list(limit=limit, cursor=cursor)


def endpoint_get(*, endpoint_id: str) -> WebhookEndpointDTO:
    """Errors: 404 `not_found` (`endpoint_id`) — also once deleted."""
    return selectors.endpoint_get(endpoint_id)


def endpoint_delete(*, endpoint_id: str) -> WebhookEndpointDTO:
    """Soft-delete: the endpoint leaves the API, is disabled and receives nothing more; returns it
    with `deleted_at`. Deleting again → 404. Errors: 404 `not_found`.
    Events: `webhook_endpoint.deleted`. Audit: `webhook_endpoint.deleted`."""
    return services.endpoint_delete(endpoint_id=endpoint_id)


def endpoint_disable(*, endpoint_id: str, reason: str) -> WebhookEndpointDTO:
    """Pause deliveries (the endpoint stays listed, `enabled=False`); a no-op if already disabled.
    Errors: 400 `validation_error` (reason); 404 `not_found`. Audit: `webhook_endpoint.disabled`."""
    return services.endpoint_enabled_set(endpoint_id=endpoint_id, enabled=False, reason=reason)


def endpoint_enable(*, endpoint_id: str, reason: str) -> WebhookEndpointDTO:
    """Resume deliveries; a no-op if already enabled. Errors as endpoint_disable.
    Audit: `webhook_endpoint.enabled`."""
    return services.endpoint_enabled_set(endpoint_id=endpoint_id, enabled=True, reason=reason)


def endpoint_secret(*, endpoint_id: str) -> str:
    """The endpoint's current signing secret, decrypted — for the delivery code that signs with it,
    never for an HTTP response. Errors: 404 `not_found`."""
    return selectors.endpoint_secret(endpoint_id)


def endpoints_for_event(*, event_type: str) -> list[WebhookEndpointDTO]:
    """The enabled, live endpoints one of whose patterns matches `event_type` (`*`, a wildcard of
    one of its prefixes — `qr.*` and `qr.payment.*` both match `qr.payment.confirmed` — or the
    name itself), oldest first. Errors: 400 `validation_error` (event_type not a dotted name)."""
    return selectors.endpoints_for_event(event_type)


def endpoint_secret_rotate(*, endpoint_id: str, overlap_seconds: int = 86400) -> WebhookSecretRotatedDTO:
    """A new signing secret, returned here only (`WebhookSecretRotatedDTO.secret`). For `overlap_seconds`
    (0-604800, default one day) the replaced secret keeps signing too: each delivery's
    `FinFactory-Signature` carries one `v1=` per secret. Errors: 400 `validation_error`
    (overlap_seconds: invalid, out_of_range); 404 `not_found`. Audit: `webhook_endpoint.secret_rotated`."""
    return services.endpoint_secret_rotate(endpoint_id=endpoint_id, overlap_seconds=overlap_seconds)


def delivery_list(*, endpoint_id: str, limit: int = 20, cursor: str | None = None) -> Page:
    """The endpoint's deliveries, newest first, each with its attempts (`Page` of
    WebhookDeliveryDTO). Errors: 404 `not_found` (endpoint_id); 400 limit, `invalid_cursor`."""
    return selectors.delivery_list(endpoint_id=endpoint_id, limit=limit, cursor=cursor)


def delivery_get(*, endpoint_id: str, delivery_id: str) -> WebhookDeliveryDTO:
    """Errors: 404 `not_found` (endpoint_id or delivery_id)."""
    return selectors.delivery_get(endpoint_id=endpoint_id, delivery_id=delivery_id)


def delivery_redeliver(*, endpoint_id: str, delivery_id: str) -> WebhookDeliveryDTO:
    """Send the delivery again now (queued after commit), whether pending, delivered or failed.
    Errors: 404 `not_found`; 409 `endpoint_disabled`."""
    return services.delivery_redeliver(endpoint_id=endpoint_id, delivery_id=delivery_id)
