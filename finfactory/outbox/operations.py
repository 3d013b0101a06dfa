"""What operators ask of the outbox: its state, and trimming it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone

from finfactory.outbox.models import InboxRecord, OutboxEvent, OutboxStatus


@dataclass(frozen=True)
class OutboxState:
    pending: int
    due: int
    dead: int
    delivered: int
    oldest_pending_seconds: float | None


def outbox_state() -> OutboxState:
    now = timezone.now()
    counts = OutboxEvent.objects.aggregate(
        pending=Count("id", filter=Q(status=OutboxStatus.PENDING)),
        due=Count("id", filter=Q(status=OutboxStatus.PENDING, next_attempt_at__lte=now)),
        dead=Count("id", filter=Q(status=OutboxStatus.DEAD)),
        delivered=Count("id", filter=Q(status=OutboxStatus.DELIVERED)),
        oldest=Min("occurred_at", filter=Q(status=OutboxStatus.PENDING)),
    )
    oldest = counts.pop("oldest")
    return OutboxState(**counts, oldest_pending_seconds=(now - oldest).total_seconds() if oldest else None)


def outbox_purge(*, older_than: timedelta | None = None) -> int:
    """Delete delivered events (and inbox rows) older than the retention; never pending or dead."""
    cutoff = timezone.now() - (older_than or timedelta(days=settings.OUTBOX_RETENTION_DAYS))
    deleted, _ = OutboxEvent.objects.filter(status=OutboxStatus.DELIVERED, occurred_at__lt=cutoff).delete()
    InboxRecord.objects.filter(handled_at__lt=cutoff).delete()
    return deleted
