"""Queueing webhooks' delivery task by name for the current tenant (tasks.py imports the modules
that queue it). Best effort: the beat (tasks.deliveries_requeue) queues whatever is due and was
never queued, or lost."""

from __future__ import annotations

from django.conf import settings

from finfactory.tenancy.tasks import tenant_task_send, tenant_task_send_on_commit

DELIVER = "contexts.webhooks.tasks.deliver"


def deliver_after_commit(delivery_id: str) -> None:
    tenant_task_send_on_commit(DELIVER, args=[delivery_id], queue=settings.WEBHOOKS_QUEUE)


def deliver_now(delivery_id: str) -> bool:
    return tenant_task_send(DELIVER, args=[delivery_id], queue=settings.WEBHOOKS_QUEUE)


def deliver_later(delivery_id: str, *, seconds: float) -> bool:
    return tenant_task_send(DELIVER, args=[delivery_id], queue=settings.WEBHOOKS_QUEUE, countdown=max(0.0, seconds))
