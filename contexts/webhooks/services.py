"""Write side of webhook endpoints. Each write is one transaction: the audit-chain lock first
(audit_lock, so the order audit chain → rows holds everywhere), the row, its event (outbox) and
its audit record. Input is validated before the transaction: a refusal writes nothing.
Neither events nor audit records ever carry the secret; audit records keep the URL without its
query string (it may hold a token), events only its host.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from finfactory.audit.services import audit_lock, audit_record
from finfactory.errors import BusinessRuleViolation, Conflict
from finfactory.outbox.publish import publish

from . import dispatch, selectors, validation
from .dtos import WebhookDeliveryDTO, WebhookEndpointCreatedDTO, WebhookEndpointDTO, WebhookSecretRotatedDTO
from .models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

SECRET_PREFIX = "whsec_"  # noqa: S105 - the public prefix of every secret, not a secret
SECRET_BYTES = 32  # 43 url-safe characters, 256 bits
MAX_ENDPOINTS = 50  # live endpoints per tenant: each event fans out to every one of them
MAX_OVERLAP_SECONDS = 7 * 86400  # the longest both secrets of a rotation sign


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


def endpoint_secret_rotate(*, endpoint_id: str, overlap_seconds: int = 86400) -> WebhookSecretRotatedDTO:
    """A new signing secret (returned once). During `overlap_seconds` (0-7 days) the replaced one
    stays `previous_secret` and deliveries carry a `v1=` for each; 0 ends the old one now. A
    rotation during an overlap drops the older previous secret."""
    if isinstance(overlap_seconds, bool) or not isinstance(overlap_seconds, int):
        raise validation.invalid("overlap_seconds", f"An integer of seconds, 0-{MAX_OVERLAP_SECONDS}.")
    if not 0 <= overlap_seconds <= MAX_OVERLAP_SECONDS:
        raise validation.invalid("overlap_seconds", f"0-{MAX_OVERLAP_SECONDS} seconds.", "out_of_range")
    secret = secret_new()
    with transaction.atomic():
        audit_lock()
        row = selectors.endpoint_row(endpoint_id, with_secrets=True, for_update=True)
        before = _state(row)
        if overlap_seconds:
            row.previous_secret = row.secret
            row.previous_secret_expires_at = timezone.now() + timedelta(seconds=overlap_seconds)
        else:
            row.previous_secret = row.previous_secret_expires_at = None
        row.secret, row.secret_last4 = secret, secret[-4:]
        row.save(
            update_fields=["secret", "secret_last4", "previous_secret", "previous_secret_expires_at", "updated_at"]
        )
        after = {**_state(row), "previous_secret_expires_at": _iso(row.previous_secret_expires_at)}
        audit_record(
            action="webhook_endpoint.secret_rotated", target_type="webhook_endpoint", target_id=row.public_id,
            before=before, after=after, reason=f"Signing secret rotated (overlap {overlap_seconds} s)",
        )  # fmt: skip
    return WebhookSecretRotatedDTO(
        endpoint_id=row.public_id, secret_last4=row.secret_last4,
        previous_secret_expires_at=row.previous_secret_expires_at, secret=secret,
    )  # fmt: skip


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def endpoint_auto_disable(*, endpoint_id: str) -> bool:
    """Disable an endpoint whose deliveries keep failing (delivery.py decides when), audited, with
    the event `webhook_endpoint.disabled` (the tenant is told by whoever subscribes). False if it
    was already disabled or deleted."""
    with transaction.atomic():
        audit_lock()
        row = selectors.live_endpoints().defer("secret", "previous_secret").select_for_update()
        row = row.filter(public_id=endpoint_id).first()
        if row is None or not row.enabled:
            return False
        before = _state(row)
        since = row.failing_since or timezone.now()
        reason = (
            f"Disabled automatically: {row.failure_streak} failed delivery attempts in a row"
            f" since {since:%Y-%m-%d %H:%M} UTC"
        )
        row.enabled = False
        row.save(update_fields=["enabled", "updated_at"])
        publish(
            "webhook_endpoint.disabled", row.public_id,
            {**_event_data(row), "reason": reason, "failure_streak": max(1, row.failure_streak),
             "failing_since": since.isoformat().replace("+00:00", "Z")},
        )  # fmt: skip
        audit_record(
            action="webhook_endpoint.disabled", target_type="webhook_endpoint", target_id=row.public_id,
            before=before, after=_state(row), reason=reason,
        )  # fmt: skip
    return True


def deliveries_record(*, envelope: dict) -> list[str]:
    """One pending delivery of the event `envelope` (Event.as_dict()) per enabled endpoint that
    matches its type, due now; the sends are queued after commit. An event already recorded for
    an endpoint (a redelivered event) adds nothing. Returns the new deliveries' ids."""
    rows = list(selectors.endpoint_rows_for_event(envelope["type"]))
    if not rows:
        return []
    payload = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)
    now = timezone.now()
    fields = {
        "event_id": envelope["id"], "event_type": envelope["type"], "aggregate_type": envelope["aggregate_type"],
        "aggregate_id": envelope["aggregate_id"], "sequence": envelope["sequence"], "payload": payload,
        "next_attempt_at": now,
    }  # fmt: skip
    WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(endpoint=row, **fields) for row in rows], ignore_conflicts=True
    )
    created = list(
        WebhookDelivery.objects.filter(
            event_id=envelope["id"], endpoint__in=rows, attempts=0, created_at__gte=now
        ).values_list("public_id", flat=True)
    )
    for delivery_id in created:
        dispatch.deliver_after_commit(delivery_id)
    return created


def delivery_redeliver(*, endpoint_id: str, delivery_id: str) -> WebhookDeliveryDTO:
    """A new attempt now, whatever the delivery's state (pending, delivered or failed); a delivery
    that fails again resumes the backoff where it stood (a failed one gets this attempt only).
    Errors: 404 `not_found` (endpoint_id / delivery_id); 409 `endpoint_disabled`."""
    endpoint = selectors.endpoint_row(endpoint_id)
    if not endpoint.enabled:
        raise Conflict("The endpoint is disabled: enable it before redelivering.", code="endpoint_disabled")
    with transaction.atomic():
        row = selectors.delivery_row(endpoint, delivery_id, for_update=True)
        row.status, row.next_attempt_at, row.redelivery_requested = DeliveryStatus.PENDING, timezone.now(), True
        row.save(update_fields=["status", "next_attempt_at", "redelivery_requested", "updated_at"])
        dispatch.deliver_after_commit(row.public_id)
    return selectors.delivery_dto(row)
