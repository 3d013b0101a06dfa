"""`publish()`: write an event in the caller's transaction."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import structlog
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from finfactory.events.catalog import event_type_get, validate_payload
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
    return publish_many([(type, aggregate_id, data)], aggregate_types=[aggregate_type])[0]


def publish_many(events, *, aggregate_types=None) -> list[Event]:
    """Record several events — (type, aggregate_id, data) tuples — in one round trip, in order.

    Same guarantees as publish(): every payload is validated before anything is written, and
    the events commit (or not) with the caller's transaction. A hot path that emits an event
    per touched aggregate pays one statement instead of one per event.
    """
    if not connection.in_atomic_block:
        raise OutboxError("publish() needs a transaction: the event must commit with the change")
    schema = connection.schema_name
    if schema == get_public_schema_name():
        raise OutboxError("publish() needs a tenant schema")
    now = timezone.now()
    request_id = current_request_id() or ""
    actor = current_actor() or "system:unknown"
    aggregate_types = aggregate_types or [None] * len(events)
    envelopes: list[Event] = []
    for (type, aggregate_id, data), aggregate_type in zip(events, aggregate_types, strict=True):
        event_type = validate_payload(type, data)
        envelopes.append(
            Event(
                id=new_id("evt"),
                type=type,
                version=event_type.version,
                tenant=schema,
                occurred_at=now,
                aggregate_type=aggregate_type or event_type.aggregate_type,
                aggregate_id=str(aggregate_id),
                sequence=0,
                data=data,
                request_id=request_id,
                actor=actor,
            )
        )
    if not envelopes:
        return []
    columns = (
        [_aggregate_lock(schema, e.aggregate_type, e.aggregate_id) for e in envelopes],
        [e.id for e in envelopes],
        [e.type for e in envelopes],
        [e.version for e in envelopes],
        [e.aggregate_type for e in envelopes],
        [e.aggregate_id for e in envelopes],
        [shard_of(e.aggregate_type, e.aggregate_id) for e in envelopes],
        [_json(e.data) for e in envelopes],
    )
    with connection.cursor() as cursor:
        # Lock each aggregate, then insert with its next sequence (migration 0002), in list order.
        cursor.execute(
            "SELECT outbox_publish(e.lock, e.event_id, e.type, e.version, e.aggregate_type, e.aggregate_id,"
            " e.shard, e.data::jsonb, %s, %s, %s)"
            " FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::integer[], %s::text[], %s::text[],"
            " %s::integer[], %s::text[]) WITH ORDINALITY"
            " AS e(lock, event_id, type, version, aggregate_type, aggregate_id, shard, data, n) ORDER BY e.n",
            [now, request_id, actor, *columns],
        )
        sequences = [row[0] for row in cursor.fetchall()]
    _wake_on_commit(schema)
    return [replace(envelope, sequence=sequence) for envelope, sequence in zip(envelopes, sequences, strict=True)]


def event_slot(type: str, aggregate_id: str, *, aggregate_type: str | None = None) -> dict:
    """Everything a database function needs to publish an event of `type` itself (with
    `outbox_publish(lock, event_id, type, version, aggregate_type, aggregate_id, shard, data, …)`)
    when the payload is only known inside the statement — so a hot path can write its change
    and its events in one round trip. The caller must call `wake_after_commit()` and must build
    payloads that satisfy the type's schema (its tests validate them against the catalog).
    """
    if connection.schema_name == get_public_schema_name():
        raise OutboxError("events are published in a tenant schema")
    event_type = event_type_get(type)
    aggregate_type = aggregate_type or event_type.aggregate_type
    aggregate_id = str(aggregate_id)
    return {
        "event_id": new_id("evt"),
        "lock": _aggregate_lock(connection.schema_name, aggregate_type, aggregate_id),
        "type": type,
        "version": event_type.version,
        "aggregate_type": aggregate_type,
        "aggregate_id": aggregate_id,
        "shard": shard_of(aggregate_type, aggregate_id),
    }


def event_context() -> dict:
    """The request id and actor every event of the current request carries."""
    return {"request_id": current_request_id() or "", "actor": current_actor() or "system:unknown"}


def wake_after_commit() -> None:
    """Ask for a drain of the current tenant's outbox once the transaction commits (at once in
    autocommit, where the statement that published has already committed)."""
    _wake_on_commit(connection.schema_name)


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
