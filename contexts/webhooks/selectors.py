"""Read side: live endpoints by public id (404 `not_found` naming `endpoint_id`) and their DTOs.

A deleted endpoint is not found: it has left the API. Secrets stay deferred unless asked for, so
a list decrypts nothing.
"""

from __future__ import annotations

from finfactory.errors import FieldError, NotFound
from finfactory.ids import looks_like
from finfactory.pages import Page, keyset_page

from . import validation
from .dtos import WebhookDeliveryAttemptDTO, WebhookDeliveryDTO, WebhookEndpointDTO
from .models import WebhookDelivery, WebhookEndpoint

PAGE_KIND = "webhook_endpoints"
DELIVERY_PAGE_KIND = "webhook_deliveries"
_SECRETS = ("secret", "previous_secret")


def endpoint_dto(row: WebhookEndpoint) -> WebhookEndpointDTO:
    return WebhookEndpointDTO(
        id=row.public_id, url=row.url, events=tuple(row.events), description=row.description, enabled=row.enabled,
        secret_last4=row.secret_last4, created_at=row.created_at, updated_at=row.updated_at,
        deleted_at=row.deleted_at,
    )  # fmt: skip


def live_endpoints():
    return WebhookEndpoint.objects.filter(deleted_at__isnull=True)


def not_found() -> NotFound:
    return NotFound(
        "No such webhook endpoint.", errors=[FieldError("endpoint_id", "No such webhook endpoint.", "not_found")]
    )


def endpoint_row(endpoint_id: object, *, with_secrets: bool = False, for_update: bool = False) -> WebhookEndpoint:
    public_id = validation.endpoint_id_text(endpoint_id)
    if not looks_like("we", public_id):
        raise not_found()
    queryset = live_endpoints() if with_secrets else live_endpoints().defer(*_SECRETS)
    if for_update:
        queryset = queryset.select_for_update()
    row = queryset.filter(public_id=public_id).first()
    if row is None:
        raise not_found()
    return row


def endpoint_get(endpoint_id: object) -> WebhookEndpointDTO:
    return endpoint_dto(endpoint_row(endpoint_id))


def endpoint_secret(endpoint_id: object) -> str:
    return endpoint_row(endpoint_id, with_secrets=True).secret


def endpoint_list(*, limit: int, cursor: object) -> Page:
    return keyset_page(live_endpoints().defer(*_SECRETS), limit=limit, cursor=cursor, kind=PAGE_KIND, item=endpoint_dto)


def endpoint_rows_for_event(event_type: object):
    name = validation.event_type(event_type)
    return (
        WebhookEndpoint.objects.filter(
            enabled=True, deleted_at__isnull=True, events__has_any_keys=validation.matching_patterns(name)
        )
        .defer(*_SECRETS)
        .order_by("id")
    )


def endpoints_for_event(event_type: object) -> list[WebhookEndpointDTO]:
    """Enabled live endpoints with a pattern matching `event_type`, oldest first (one GIN lookup)."""
    return [endpoint_dto(row) for row in endpoint_rows_for_event(event_type)]


# --- deliveries -----------------------------------------------------------------------------------


def delivery_dto(row: WebhookDelivery) -> WebhookDeliveryDTO:
    return WebhookDeliveryDTO(
        id=row.public_id, endpoint_id=row.endpoint.public_id, event_id=row.event_id, event_type=row.event_type,
        aggregate_type=row.aggregate_type, aggregate_id=row.aggregate_id, sequence=row.sequence, status=row.status,
        attempts=row.attempts, next_attempt_at=row.next_attempt_at, last_status_code=row.last_status_code,
        last_error=row.last_error, delivered_at=row.delivered_at, created_at=row.created_at,
        attempt_log=tuple(
            WebhookDeliveryAttemptDTO(
                number=a.number, status_code=a.status_code, error=a.error, latency_ms=a.latency_ms,
                response_excerpt=a.response_excerpt, manual=a.manual, at=a.at,
            )
            for a in sorted(row.attempt_log.all(), key=lambda a: a.number)
        ),
    )  # fmt: skip


def delivery_not_found() -> NotFound:
    return NotFound(
        "No such webhook delivery.", errors=[FieldError("delivery_id", "No such webhook delivery.", "not_found")]
    )


def delivery_row(endpoint: WebhookEndpoint, delivery_id: object, *, for_update: bool = False) -> WebhookDelivery:
    public_id = delivery_id if isinstance(delivery_id, str) else ""
    if not looks_like("whd", public_id):
        raise delivery_not_found()
    queryset = WebhookDelivery.objects.filter(endpoint=endpoint, public_id=public_id).select_related("endpoint")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    row = queryset.first()
    if row is None:
        raise delivery_not_found()
    return row


def delivery_get(*, endpoint_id: object, delivery_id: object) -> WebhookDeliveryDTO:
    return delivery_dto(delivery_row(endpoint_row(endpoint_id), delivery_id))


def delivery_list(*, endpoint_id: object, limit: int, cursor: object) -> Page:
    endpoint = endpoint_row(endpoint_id)
    queryset = (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .select_related("endpoint")
        .defer("payload", "endpoint__secret", "endpoint__previous_secret")
        .prefetch_related("attempt_log")
    )
    return keyset_page(queryset, limit=limit, cursor=cursor, kind=DELIVERY_PAGE_KIND, item=delivery_dto)
