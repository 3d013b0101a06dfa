"""Celery tasks: they take public ids only and run in the schema of the tenant that queued them
(tenant-schemas-celery); the beat visits every tenant through for_each_tenant. Retries are not
Celery's: the attempt count and next attempt time live in the notification row (services), so
they survive a lost task and the beat re-queues what is overdue."""

from __future__ import annotations

from celery import shared_task

from finfactory.request_context import acting_as
from finfactory.tenancy.context import for_each_tenant

from . import services


@shared_task(name=services.SEND_TASK, ignore_result=True, acks_late=True)
def send_notification(notification_id: str) -> str:
    with acting_as("system:notifications"):
        return services.notification_deliver(notification_id=notification_id)


@shared_task(name="contexts.notifications.tasks.requeue_due", ignore_result=True)
def requeue_due() -> dict:
    """Beat, every NOTIFICATIONS_REQUEUE_SECONDS: the safety net for a lost send task."""
    with acting_as("system:notifications"):
        results = for_each_tenant(lambda tenant: services.notifications_requeue_due(), include_suspended=False)
    return {slug: count for slug, count in results.items() if count}
