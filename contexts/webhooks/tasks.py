"""Celery tasks of webhooks. They take public ids only and run in the schema of the tenant that
queued them (tenant-schemas-celery); the beat visits every tenant."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from finfactory.request_context import acting_as
from finfactory.tenancy.context import for_each_tenant

from . import dispatch
from .delivery import delivery_attempt
from .models import DeliveryStatus, WebhookDelivery

REQUEUE_LIMIT = 500


@shared_task(name=dispatch.DELIVER, ignore_result=True, acks_late=True)
def deliver(delivery_id: str) -> str:
    """One attempt of a delivery if it is pending and due (a duplicate message finds it not due)."""
    with acting_as("system:webhooks"):
        return delivery_attempt(delivery_id)


def requeue_due(*, limit: int = REQUEUE_LIMIT) -> int:
    """In the current tenant: queue the pending deliveries whose next attempt is due."""
    due = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now())
    ids = list(due.order_by("next_attempt_at").values_list("public_id", flat=True)[:limit])
    return sum(dispatch.deliver_now(delivery_id) for delivery_id in ids)


@shared_task(name="contexts.webhooks.tasks.deliveries_requeue", ignore_result=True)
def deliveries_requeue() -> dict:
    """Beat, every WEBHOOKS_REQUEUE_SECONDS: retries that are due, and tasks that were lost."""
    results = for_each_tenant(lambda tenant: requeue_due(), include_suspended=False)
    return {slug: count for slug, count in results.items() if count}
