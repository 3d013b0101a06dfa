"""Read side: live endpoints by public id (404 `not_found` naming `endpoint_id`) and their DTOs.

A deleted endpoint is not found: it has left the API. Secrets stay deferred unless asked for, so
a list decrypts nothing.
"""

from __future__ import annotations

from finfactory.errors import FieldError, NotFound
from finfactory.ids import looks_like
from finfactory.pages import Page, keyset_page

from . import validation
from .dtos import WebhookEndpointDTO
from .models import WebhookEndpoint

PAGE_KIND = "webhook_endpoints"
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


def endpoints_for_event(event_type: object) -> list[WebhookEndpointDTO]:
    """Enabled live endpoints with a pattern matching `event_type`, oldest first (one GIN lookup)."""
    name = validation.event_type(event_type)
    rows = (
        WebhookEndpoint.objects.filter(
            enabled=True, deleted_at__isnull=True, events__has_any_keys=validation.matching_patterns(name)
        )
        .defer(*_SECRETS)
        .order_by("id")
    )
    return [endpoint_dto(row) for row in rows]
