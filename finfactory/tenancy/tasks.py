"""Queueing a context's tasks for the current tenant, by task name.

The tenant's schema travels in the task headers (tenant-schemas-celery runs the task in it), so
task arguments stay public ids. Queueing is best effort: a context that queues work keeps it
recoverable (a beat task that re-sends what is left pending), so a broker outage never fails the
request that asked for the work.
"""

from __future__ import annotations

import structlog
from django.db import connection, transaction

logger = structlog.get_logger(__name__)


def tenant_task_send(
    name: str, *, args: list, queue: str = "", countdown: float | None = None, schema: str | None = None
) -> bool:
    """Queue task `name` for `schema` (default: the current tenant); False if the broker refused."""
    from celery import current_app

    try:
        current_app.send_task(
            name,
            args=args,
            queue=queue or None,
            countdown=countdown,
            headers={"_schema_name": schema or connection.schema_name},
        )
    except Exception as exc:
        logger.warning("tenant_task.not_queued", task=name, error=type(exc).__name__)
        return False
    return True


def tenant_task_send_on_commit(name: str, *, args: list, queue: str = "") -> None:
    """Queue the task once the current transaction commits (never for work that rolls back)."""
    schema = connection.schema_name
    transaction.on_commit(lambda: tenant_task_send(name, args=args, queue=queue, schema=schema))
