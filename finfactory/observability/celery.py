"""Give every log line a task writes the task's id, name and tenant schema."""

import structlog
from celery.signals import task_postrun, task_prerun
from django.db import connection


@task_prerun.connect(weak=False)
def _bind_task_context(task_id=None, task=None, **kwargs):
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(
        task_id=task_id,
        task=getattr(task, "name", None),
        tenant=getattr(connection, "schema_name", None),
    )


@task_postrun.connect(weak=False)
def _clear_task_context(**kwargs):
    structlog.contextvars.clear_contextvars()
