"""Queueing orchestration's tasks by name (tasks.py imports the modules that queue them).

Tasks carry public ids and provider references only; the tenant's schema travels in the task
headers. Queueing is best effort: a lost task is made up for by the resume sweep
(`tasks.operations_resume`), which finds every operation whose lease has passed.
"""

from __future__ import annotations

from django.conf import settings

from finfactory.tenancy.tasks import tenant_task_send, tenant_task_send_on_commit

ADVANCE = "contexts.products.tasks.advance_operation"
SUBMIT_PAYOUT = "contexts.products.tasks.submit_payout"
POLL_PAYOUT = "contexts.products.tasks.poll_payout"
SANDBOX_PAYOUT_SETTLE = "contexts.products.tasks.sandbox_payout_settle"


def _queue(name: str, *, args: list, countdown: float | None = None) -> bool:
    return tenant_task_send(name, args=args, queue=settings.PRODUCTS_QUEUE, countdown=countdown)


def advance_after_commit(operation_id: str) -> None:
    tenant_task_send_on_commit(ADVANCE, args=[operation_id], queue=settings.PRODUCTS_QUEUE)


def submit_payout_after_commit(payout_id: str) -> None:
    tenant_task_send_on_commit(SUBMIT_PAYOUT, args=[payout_id], queue=settings.PRODUCTS_QUEUE)


def poll_payout_after_commit(payout_id: str) -> None:
    tenant_task_send_on_commit(POLL_PAYOUT, args=[payout_id], queue=settings.PRODUCTS_QUEUE)


def sandbox_payout_settle_later(provider_reference: str, *, seconds: float) -> bool:
    return _queue(SANDBOX_PAYOUT_SETTLE, args=[provider_reference], countdown=max(0.0, seconds))
