"""Queueing qrph's tasks by name (tasks.py imports the modules that queue them).

Tasks carry public ids and network references only. The tenant's schema travels in the task
headers. Queueing is best effort: with the broker down, the reconcile beat submits and polls what
is left pending.
"""

from __future__ import annotations

from django.conf import settings

from finfactory.tenancy.tasks import tenant_task_send, tenant_task_send_on_commit

SUBMIT_PAYMENT = "contexts.qrph.tasks.submit_payment"
SANDBOX_SETTLE = "contexts.qrph.tasks.sandbox_settle"


def _queue(name: str, *, args: list, countdown: float | None = None) -> bool:
    return tenant_task_send(name, args=args, queue=settings.QRPH_QUEUE, countdown=countdown)


def submit_payment_after_commit(payment_id: str) -> None:
    tenant_task_send_on_commit(SUBMIT_PAYMENT, args=[payment_id], queue=settings.QRPH_QUEUE)


def submit_payment_now(payment_id: str) -> bool:
    return _queue(SUBMIT_PAYMENT, args=[payment_id])


def sandbox_settle_later(network_reference: str, *, seconds: float) -> bool:
    return _queue(SANDBOX_SETTLE, args=[network_reference], countdown=max(0.0, seconds))
