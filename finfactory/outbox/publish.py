"""`publish()`: write an event in the caller's transaction."""

from __future__ import annotations

import hashlib

import structlog
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from finfactory.events.catalog import validate_payload
from finfactory.events.subscribers import Event
from finfactory.ids import new_id
from finfactory.outbox.sharding import shard_of
from finfactory.request_context import current_actor, current_request_id

logger = structlog.get_logger(__name__)


class OutboxError(RuntimeError):
    pass


def _aggregate_lock(schema: str, aggregate_type: str, aggregate_id: str) -> int:
    raw = hashlib.sha256(f"outbox:{schema}:{aggregate_type}:{aggregate_id}".encode()).digest()[:8]
    return int.from_bytes(raw, "big", signed=True)


def publish(type: str, aggregate_id: str, data: dict, *, aggregate_type: str | None = None) -> Event:
    """Record an event in the current transaction of the current tenant; returns its envelope.

    Raises UnknownEventType / InvalidEventPayload (nothing is written, and the caller's
    transaction fails with it) and OutboxError when called outside a transaction or outside a
    tenant schema. The per-aggregate sequence is taken under a transaction-scoped advisory lock
    on that aggregate only: no row shared by the tenant's other writes is touched.
    """
    if not connection.in_atomic_block:
        raise OutboxError("publish() needs a transaction: the event must commit with the change")
    schema = connection.schema_name
    if schema == get_public_schema_name():
        raise OutboxError("publish() needs a tenant schema")
    event_type = validate_payload(type, data)
    aggregate_type = aggregate_type or event_type.aggregate_type
    aggregate_id = str(aggregate_id)
    now = timezone.now()
    event_id = new_id("evt")
    request_id = current_request_id() or ""
    actor = current_actor() or "system:unknown"
    with connection.cursor() as cursor:
        # Lock the aggregate, then insert with the next sequence: one round trip (migration 0002).
        cursor.execute(
            "SELECT outbox_publish(%s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s)",
            [
                _aggregate_lock(schema, aggregate_type, aggregate_id), event_id, type, event_type.version,
                aggregate_type, aggregate_id, shard_of(aggregate_type, aggregate_id), _json(data), now,
                request_id, actor,
            ],
        )  # fmt: skip
        (sequence,) = cursor.fetchone()
    _wake_on_commit(schema)
    return Event(
        id=event_id,
        type=type,
        version=event_type.version,
        tenant=schema,
        occurred_at=now,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        sequence=sequence,
        data=data,
        request_id=request_id,
        actor=actor,
    )


def _json(data) -> str:
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False)


def _wake_on_commit(schema: str) -> None:
    """After commit, ask for a drain of this tenant's outbox. The request is handed to the
    process's wake-up coalescer (finfactory.outbox.wakeups), so the commit path pays no network
    round trip and a burst of commits costs one wake-up."""
    from finfactory.outbox.wakeups import request_wake

    transaction.on_commit(lambda: request_wake(schema))
