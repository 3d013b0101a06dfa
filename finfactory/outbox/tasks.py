from celery import shared_task
from django.db import connection
from django_tenants.utils import get_public_schema_name

from finfactory.outbox.drain import clear_wake, drain, wake_drain
from finfactory.outbox.models import OutboxEvent, OutboxStatus
from finfactory.tenancy.context import for_each_tenant


@shared_task(name="finfactory.outbox.tasks.drain_outbox", ignore_result=True, acks_late=True)
def drain_outbox(partition: int | None = None) -> dict:
    """Runs in the schema of the tenant whose commit queued it (tenant-schemas-celery)."""
    schema = connection.schema_name
    if schema == get_public_schema_name():
        return {}
    if partition is not None:
        clear_wake(schema, partition)  # commits from now on queue a new drain of this partition
    result = drain(partition=partition)
    return {"schema": schema, "delivered": result.delivered, "retried": result.retried, "dead": result.dead}


@shared_task(name="finfactory.outbox.tasks.sweep_outboxes", ignore_result=True)
def sweep_outboxes() -> dict:
    """Beat, every OUTBOX_SWEEP_SECONDS: the safety net for a lost wake-up (worker killed, Redis
    blip). Queues a drain for every tenant with due events."""
    from django.utils import timezone

    def due(tenant) -> bool:
        pending = OutboxEvent.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=timezone.now())
        return pending.exists() and wake_drain(connection.schema_name, force=True)

    return for_each_tenant(due, include_suspended=True)


@shared_task(name="finfactory.outbox.tasks.purge_outboxes", ignore_result=True)
def purge_outboxes() -> dict:
    """Beat, daily: delivered events and inbox rows past OUTBOX_RETENTION_DAYS."""
    from finfactory.outbox.operations import outbox_purge

    return for_each_tenant(lambda tenant: outbox_purge())
