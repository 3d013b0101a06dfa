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
from finfactory.outbox.models import OutboxStatus
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
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_aggregate_lock(schema, aggregate_type, aggregate_id)])
        # A separate statement after the lock: in READ COMMITTED it sees the last committed sequence.
        cursor.execute(
            """
            INSERT INTO outbox_outboxevent
              (event_id, type, version, aggregate_type, aggregate_id, sequence, data, occurred_at,
               request_id, actor, status, attempts, next_attempt_at, last_error)
            SELECT %s, %s, %s, %s, %s, COALESCE(MAX(sequence), 0) + 1, %s::jsonb, %s, %s, %s, %s, 0, %s, ''
              FROM outbox_outboxevent WHERE aggregate_type = %s AND aggregate_id = %s
            RETURNING sequence
            """,
            [
                event_id, type, event_type.version, aggregate_type, aggregate_id,
                _json(data), now, request_id, actor, OutboxStatus.PENDING, now,
                aggregate_type, aggregate_id,
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
    """After commit, ask a worker to drain this tenant's outbox (deduplicated in wake_drain)."""

    def wake():
        from finfactory.outbox.drain import wake_drain

        wake_drain(schema)

    transaction.on_commit(wake)
