"""Queueing identity's tasks by name (tasks.py imports the modules that queue them).

Tasks carry public ids and provider references only: the broker never sees personal data. The
tenant's schema travels in the task headers. Queueing is best effort — with the broker down, the
reconcile beat (tasks.reconcile_kyc) sends and polls what is left pending.
"""

from __future__ import annotations

from django.conf import settings

from finfactory.tenancy.tasks import tenant_task_send, tenant_task_send_on_commit

SEND_SUBMISSION = "contexts.identity.tasks.send_submission"
SANDBOX_DECIDE = "contexts.identity.tasks.sandbox_decide"


def _queue(name: str, *, args: list, countdown: float | None = None) -> bool:
    return tenant_task_send(name, args=args, queue=settings.IDENTITY_QUEUE, countdown=countdown)


def send_submission_after_commit(submission_id: str) -> None:
    """Hand the submission to its provider once the transaction that made it commits."""
    tenant_task_send_on_commit(SEND_SUBMISSION, args=[submission_id], queue=settings.IDENTITY_QUEUE)


def send_submission_now(submission_id: str) -> bool:
    return _queue(SEND_SUBMISSION, args=[submission_id])


def sandbox_decision_later(provider_reference: str, *, seconds: float) -> bool:
    return _queue(SANDBOX_DECIDE, args=[provider_reference], countdown=max(0.0, seconds))
