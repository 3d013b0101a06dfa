"""Draining a tenant's outbox into subscriber calls.

One batch is one transaction: claim due events with `FOR UPDATE SKIP LOCKED` (so concurrent
drains never hold the same event), deliver them in id order, each handler in its own savepoint
with its inbox row, then mark the batch. A worker killed mid-batch rolls the whole batch back —
inbox rows and handler effects included — and the next drain delivers it again, once.

Order per aggregate: an event is delivered only when no earlier event of its aggregate is still
pending outside this batch (in flight elsewhere, or waiting for a retry). A failing event thus
holds back later events of its own aggregate until it is delivered or dead-lettered, and nothing
else. Dead letters no longer block: they are parked for operators to inspect and replay.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import timedelta

import structlog
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from finfactory.events.subscribers import Event, Subscription, subscription_get, subscriptions_for
from finfactory.outbox.models import OutboxEvent, OutboxStatus
from finfactory.outbox.sharding import SHARDS
from finfactory.request_context import acting_as

logger = structlog.get_logger(__name__)

DRAIN_TASK = "finfactory.outbox.tasks.drain_outbox"
WAKE_KEY = "ff:outbox:wake:{schema}:{partition}"
METRIC_KEY = "ff:metrics:outbox:{name}"


@dataclass
class BatchResult:
    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    deferred: int = 0
    errors: dict[str, str] = field(default_factory=dict)


def partition_shards(partition: int | None) -> list[int] | None:
    """The shards a drain partition owns (None: all). OUTBOX_DRAIN_PARTITIONS divides 64."""
    if partition is None:
        return None
    partitions = settings.OUTBOX_DRAIN_PARTITIONS
    return [shard for shard in range(SHARDS) if shard % partitions == partition]


def to_event(row: OutboxEvent, schema: str) -> Event:
    return Event(
        id=row.event_id,
        type=row.type,
        version=row.version,
        tenant=schema,
        occurred_at=row.occurred_at,
        aggregate_type=row.aggregate_type,
        aggregate_id=row.aggregate_id,
        sequence=row.sequence,
        data=row.data,
        request_id=row.request_id,
        actor=row.actor,
    )


def backoff_seconds(attempts: int) -> float:
    """Exponential with jitter: base·2^(n-1), capped, times a random factor in [0.5, 1]."""
    ceiling = min(settings.OUTBOX_BACKOFF_MAX_SECONDS, settings.OUTBOX_BACKOFF_BASE_SECONDS * 2 ** (attempts - 1))
    return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 (jitter, not security)


def deliver(event: Event, subs: list[Subscription]) -> dict[str, str]:
    """Run each subscriber once (inbox-guarded, own savepoint); returns {handler: error}."""
    errors: dict[str, str] = {}
    with acting_as(f"event:{event.type}", request_id=event.request_id or None):
        for sub in subs:
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(
                        "INSERT INTO outbox_inboxrecord (handler, event_id, handled_at) VALUES (%s, %s, now())"
                        " ON CONFLICT (handler, event_id) DO NOTHING RETURNING id",
                        [sub.name, event.id],
                    )
                    if cursor.fetchone() is None:
                        continue  # handled before: a redelivery has no second effect
                    sub.handler(event)
            except Exception as exc:
                errors[sub.name] = f"{type(exc).__name__}: {exc}"[:2000]
                logger.warning("outbox.handler_failed", handler=sub.name, event_id=event.id, error=errors[sub.name])
    return errors


def _insert_inbox(pairs: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Inbox rows for (handler, event id) pairs in one statement; returns the pairs that are new."""
    if not pairs:
        return set()
    handlers, event_ids = zip(*pairs, strict=True)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO outbox_inboxrecord (handler, event_id, handled_at)"
            " SELECT h, e, now() FROM unnest(%s::text[], %s::text[]) AS p(h, e)"
            " ON CONFLICT (handler, event_id) DO NOTHING RETURNING handler, event_id",
            [list(handlers), list(event_ids)],
        )
        return {(h, e) for h, e in cursor.fetchall()}


def _deliver_all_fast(items: list[tuple[Event, list[Subscription]]]) -> bool:
    """Every (event, subscriber) in one savepoint with one inbox statement: the common case.

    Any failure rolls the savepoint back and returns False; the caller then delivers the same
    events one handler per savepoint, to isolate the failure.
    """
    try:
        with transaction.atomic():
            new = _insert_inbox([(sub.name, event.id) for event, subs in items for sub in subs])
            for event, subs in items:
                with acting_as(f"event:{event.type}", request_id=event.request_id or None):
                    for sub in subs:
                        if (sub.name, event.id) in new:
                            sub.handler(event)
        return True
    except Exception as exc:
        logger.info("outbox.fast_path_fallback", error=f"{type(exc).__name__}: {exc}"[:200])
        return False


def _blocked_aggregates(rows: list[OutboxEvent]) -> set[tuple[str, str]]:
    """Aggregates with an earlier pending event outside this claim (in flight or retrying)."""
    first_claimed: dict[tuple[str, str], int] = {}
    for row in rows:
        first_claimed.setdefault((row.aggregate_type, row.aggregate_id), row.id)
    types, ids, firsts = zip(*((t, a, i) for (t, a), i in first_claimed.items()), strict=True)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.aggregate_type, c.aggregate_id
              FROM unnest(%s::text[], %s::text[], %s::bigint[]) AS c(aggregate_type, aggregate_id, first_id)
             WHERE EXISTS (SELECT 1 FROM outbox_outboxevent o
                            WHERE o.aggregate_type = c.aggregate_type AND o.aggregate_id = c.aggregate_id
                              AND o.status = 'pending' AND o.id < c.first_id)
            """,
            [list(types), list(ids), list(firsts)],
        )
        return {(t, a) for t, a in cursor.fetchall()}


def drain_batch(*, batch_size: int | None = None, partition: int | None = None) -> BatchResult:
    """Claim and deliver one batch of this schema's due events, in one transaction."""
    result = BatchResult()
    schema = connection.schema_name
    now = timezone.now()
    with transaction.atomic():
        claim = OutboxEvent.objects.select_for_update(skip_locked=True).filter(
            status=OutboxStatus.PENDING, next_attempt_at__lte=now
        )
        shards = partition_shards(partition)
        if shards is not None:
            claim = claim.filter(shard__in=shards)
        rows = list(claim.order_by("id")[: batch_size or settings.OUTBOX_BATCH_SIZE])
        result.claimed = len(rows)
        if not rows:
            return result
        held_back = _blocked_aggregates(rows)
        ready = [row for row in rows if (row.aggregate_type, row.aggregate_id) not in held_back]
        result.deferred = len(rows) - len(ready)
        items = [(to_event(row, schema), subscriptions_for(row.type)) for row in ready]
        if _deliver_all_fast(items):
            delivered = [row.id for row in ready]
            rows = []  # nothing left for the careful path
        else:
            delivered = []
            rows = ready
        for row in rows:
            aggregate = (row.aggregate_type, row.aggregate_id)
            if aggregate in held_back:
                result.deferred += 1
                continue
            errors = deliver(to_event(row, schema), subscriptions_for(row.type))
            if not errors:
                delivered.append(row.id)
                continue
            held_back.add(aggregate)  # later events of this aggregate wait for this one
            result.errors[row.event_id] = "; ".join(f"{h}: {e}" for h, e in errors.items())
            row.attempts += 1
            row.last_error = result.errors[row.event_id]
            if row.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                row.status = OutboxStatus.DEAD
                result.dead += 1
                logger.error("outbox.dead_letter", event_id=row.event_id, type=row.type, error=row.last_error)
            else:
                row.next_attempt_at = now + timedelta(seconds=backoff_seconds(row.attempts))
                result.retried += 1
            row.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
        if delivered:
            OutboxEvent.objects.filter(id__in=delivered).update(
                status=OutboxStatus.DELIVERED, delivered_at=timezone.now()
            )
        result.delivered = len(delivered)
    _count(delivered=result.delivered, failed=result.retried + result.dead, dead=result.dead)
    return result


def drain(*, seconds: float | None = None, batch_size: int | None = None, partition: int | None = None) -> BatchResult:
    """Drain this schema's outbox (or one partition of it) until empty or out of time."""
    total = BatchResult()
    deadline = time.monotonic() + (seconds if seconds is not None else settings.OUTBOX_DRAIN_SECONDS)
    while True:
        batch = drain_batch(batch_size=batch_size, partition=partition)
        for name in ("claimed", "delivered", "retried", "dead", "deferred"):
            setattr(total, name, getattr(total, name) + getattr(batch, name))
        total.errors.update(batch.errors)
        progressed = batch.delivered + batch.retried + batch.dead
        if batch.claimed == 0 or progressed == 0:
            return total
        if time.monotonic() >= deadline:
            # More to do: hand over to a fresh task so other tenants' drains get their turn.
            wake_drain(connection.schema_name, force=True, partitions=[partition] if partition is not None else None)
            return total


def _redis():
    from django_redis import get_redis_connection

    return get_redis_connection("default")


def wake_drain(schema: str, *, force: bool = False, partitions: list[int] | None = None) -> bool:
    """Queue a drain task per partition of the schema, except for partitions woken moments ago
    whose drain has not started yet (one pipelined SET NX). Best effort: with Redis or the broker
    down the events wait in the outbox for the sweep."""
    from celery import current_app

    wanted = list(partitions if partitions is not None else range(settings.OUTBOX_DRAIN_PARTITIONS))
    try:
        if force:
            due = wanted
        else:
            pipe = _redis().pipeline(transaction=False)
            for partition in wanted:
                pipe.set(WAKE_KEY.format(schema=schema, partition=partition), "1", nx=True,
                         ex=settings.OUTBOX_WAKE_DEDUPE_SECONDS)  # fmt: skip
            due = [partition for partition, fresh in zip(wanted, pipe.execute(), strict=True) if fresh]
        for partition in due:
            # By name (tasks.py imports this module); the schema travels in the task headers.
            current_app.send_task(
                DRAIN_TASK, kwargs={"partition": partition}, queue=settings.OUTBOX_QUEUE,
                headers={"_schema_name": schema},
            )  # fmt: skip
        return bool(due)
    except Exception as exc:
        logger.warning("outbox.wake_failed", schema=schema, error=str(exc)[:200])
        return False


def clear_wake(schema: str, partition: int) -> None:
    try:
        _redis().delete(WAKE_KEY.format(schema=schema, partition=partition))
    except Exception:
        logger.warning("outbox.wake_clear_failed", schema=schema)


def _count(**values: int) -> None:
    try:
        pipe = _redis().pipeline()
        for name, value in values.items():
            if value:
                pipe.incrby(METRIC_KEY.format(name=name), value)
        pipe.execute()
    except Exception:
        logger.debug("outbox.metrics_unavailable")


def replay(*, events, handler: str | None = None) -> dict[str, dict[str, str]]:
    """Operator replay. Without a handler: the events go back to pending (dead letters included)
    and are redelivered by the drain; handlers that already took them skip them (inbox). With a
    handler: delivered to that handler now, inbox-guarded; returns errors by event id."""
    errors: dict[str, dict[str, str]] = {}
    schema = connection.schema_name
    if handler is None:
        ids = [row.id for row in events]
        OutboxEvent.objects.filter(id__in=ids).update(
            status=OutboxStatus.PENDING, attempts=0, next_attempt_at=timezone.now(), last_error=""
        )
        wake_drain(schema, force=True)
        return errors
    subscription = subscription_get(handler)
    if subscription is None:
        raise LookupError(f"no subscriber named {handler!r}")
    for row in events:
        with transaction.atomic():
            failed = deliver(to_event(row, schema), [subscription])
        if failed:
            errors[row.event_id] = failed
    return errors
