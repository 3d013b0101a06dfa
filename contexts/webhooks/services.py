"""Write side of webhook endpoints. Each write is one transaction: the audit-chain lock first
(audit_lock, so the order audit chain → rows holds everywhere), the row, its event (outbox) and
its audit record. Input is validated before the transaction: a refusal writes nothing.
Neither events nor audit records ever carry the secret; audit records keep the URL without its
query string (it may hold a token), events only its host.
"""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils import timezone

from finfactory.audit.services import audit_lock, audit_record
from finfactory.errors import BusinessRuleViolation
from finfactory.outbox.publish import publish

from . import selectors, validation
from .dtos import WebhookEndpointCreatedDTO, WebhookEndpointDTO
from .models import WebhookEndpoint

SECRET_PREFIX = "whsec_"  # noqa: S105 - the public prefix of every secret, not a secret
SECRET_BYTES = 32  # 43 url-safe characters, 256 bits
MAX_ENDPOINTS = 50  # live endpoints per tenant: each event fans out to every one of them


def secret_new() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(SECRET_BYTES)


def _state(row: WebhookEndpoint) -> dict:
    return {
        "url": validation.url_redacted(row.url),
        "events": list(row.events),
        "description": row.description,
        "enabled": row.enabled,
        "secret_last4": row.secret_last4,
        "deleted_at": row.deleted_at.isoformat() if row.deleted_at else None,
    }


def _event_data(row: WebhookEndpoint) -> dict:
    return {"endpoint_id": row.public_id, "url_host": validation.url_host(row.url), "events": list(row.events)}


def endpoint_create(*, url: str, events: list[str], description: str = "") -> WebhookEndpointCreatedDTO:
    fields = {
        "url": validation.url(url),
        "events": list(validation.event_patterns(events)),
        "description": validation.description(description),
    }
    secret = secret_new()
    with transaction.atomic():
        audit_lock()  # also serializes creates of this tenant: the count below cannot race
        if selectors.live_endpoints().count() >= MAX_ENDPOINTS:
            raise BusinessRuleViolation(
                f"A tenant has at most {MAX_ENDPOINTS} webhook endpoints; delete one first.",
                code="too_many_endpoints",
                limit=MAX_ENDPOINTS,
            )
        row = WebhookEndpoint.objects.create(secret=secret, secret_last4=secret[-4:], **fields)
        publish("webhook_endpoint.created", row.public_id, _event_data(row))
        audit_record(
            action="webhook_endpoint.created", target_type="webhook_endpoint", target_id=row.public_id,
            after=_state(row), reason="Webhook endpoint created",
        )  # fmt: skip
    endpoint = selectors.endpoint_dto(row)
    return WebhookEndpointCreatedDTO(**vars(endpoint), secret=secret)


def endpoint_delete(*, endpoint_id: str) -> WebhookEndpointDTO:
    with transaction.atomic():
        audit_lock()
        row = selectors.endpoint_row(endpoint_id, for_update=True)
        before = _state(row)
        row.deleted_at = timezone.now()
        row.enabled = False
        row.save(update_fields=["deleted_at", "enabled", "updated_at"])
        publish("webhook_endpoint.deleted", row.public_id, _event_data(row))
        audit_record(
            action="webhook_endpoint.deleted", target_type="webhook_endpoint", target_id=row.public_id,
            before=before, after=_state(row), reason="Webhook endpoint deleted",
        )  # fmt: skip
    return selectors.endpoint_dto(row)


def endpoint_enabled_set(*, endpoint_id: str, enabled: bool, reason: str) -> WebhookEndpointDTO:
    """Pause or resume deliveries to a live endpoint. Setting the state it has writes nothing."""
    if not isinstance(enabled, bool):
        raise validation.invalid("enabled", "true or false.")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
        raise validation.invalid("reason", "1-500 characters.", "required")
    with transaction.atomic():
        audit_lock()
        row = selectors.endpoint_row(endpoint_id, for_update=True)
        if row.enabled != enabled:
            before = _state(row)
            row.enabled = enabled
            row.save(update_fields=["enabled", "updated_at"])
            audit_record(
                action=f"webhook_endpoint.{'enabled' if enabled else 'disabled'}", target_type="webhook_endpoint",
                target_id=row.public_id, before=before, after=_state(row), reason=reason,
            )  # fmt: skip
    return selectors.endpoint_dto(row)
