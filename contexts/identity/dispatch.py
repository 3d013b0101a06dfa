"""Queueing identity's tasks by name (tasks.py imports the modules that queue them).

Tasks carry public ids and provider references only: the broker never sees personal data. The
tenant's schema travels in the task headers. Queueing is best effort — with the broker down, the
reconcile beat (tasks.reconcile_kyc) sends and polls what is left pending.
"""

from __future__ import annotations

import structlog
from django.conf import settings
from django.db import connection, transaction

logger = structlog.get_logger(__name__)

SEND_SUBMISSION = "contexts.identity.tasks.send_submission"
SANDBOX_DECIDE = "contexts.identity.tasks.sandbox_decide"


def _queue(name: str, *, args: list, countdown: float | None = None, schema: str | None = None) -> bool:
    from celery import current_app

    try:
        current_app.send_task(
            name,
            args=args,
            queue=settings.IDENTITY_QUEUE or None,
            countdown=countdown,
            headers={"_schema_name": schema or connection.schema_name},
        )
    except Exception as exc:
        logger.warning("identity.task_not_queued", task=name, error=type(exc).__name__)
        return False
    return True


def send_submission_after_commit(submission_id: str) -> None:
    """Hand the submission to its provider once the transaction that made it commits."""
    schema = connection.schema_name
    transaction.on_commit(lambda: _queue(SEND_SUBMISSION, args=[submission_id], schema=schema))


def send_submission_now(submission_id: str) -> bool:
    return _queue(SEND_SUBMISSION, args=[submission_id])


def sandbox_decision_later(provider_reference: str, *, seconds: float) -> bool:
    return _queue(SANDBOX_DECIDE, args=[provider_reference], countdown=max(0.0, seconds))
