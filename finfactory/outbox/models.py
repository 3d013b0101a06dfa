"""The outbox lives in each tenant's schema: it commits atomically with the tenant's rows under
django-tenants' search_path and leaves with the tenant (docs/adr/0010-outbox.md)."""

from django.db import models


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    DEAD = "dead", "Dead letter"


class OutboxEvent(models.Model):
    id = models.BigAutoField(primary_key=True)
    event_id = models.CharField(max_length=40, unique=True)
    type = models.CharField(max_length=100)
    version = models.PositiveSmallIntegerField()
    aggregate_type = models.CharField(max_length=60)
    aggregate_id = models.CharField(max_length=100)
    sequence = models.PositiveIntegerField(help_text="Position in the aggregate's history, from 1.")
    # crc32(aggregate) % 64: drains work on disjoint shard sets, so an aggregate is always drained
    # by the same partition and parallel drains do not hold each other back.
    shard = models.PositiveSmallIntegerField()
    data = models.JSONField()
    occurred_at = models.DateTimeField()
    request_id = models.CharField(max_length=140, blank=True)
    actor = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["aggregate_type", "aggregate_id", "sequence"], name="outbox_aggregate_sequence_unique"
            ),
        ]
        indexes = [
            # The drain's claim: pending events due now, oldest first.
            models.Index(
                fields=["shard", "next_attempt_at", "id"],
                name="outbox_pending_due",
                condition=models.Q(status="pending"),
            ),
            # The events API: newest first, optionally by type.
            models.Index(fields=["-occurred_at", "-id"], name="outbox_recent"),
            models.Index(fields=["type", "-occurred_at", "-id"], name="outbox_type_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"


class InboxRecord(models.Model):
    """One row per (subscriber, event) handled: the reason a redelivery has no second effect."""

    handler = models.CharField(max_length=100)
    event_id = models.CharField(max_length=40)
    handled_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["handler", "event_id"], name="inbox_handler_event_unique")]

    def __str__(self) -> str:
        return f"{self.handler} ← {self.event_id}"
