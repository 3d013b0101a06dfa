"""Celery tasks. They take public ids and provider references only and run in the schema of the
tenant that queued them (tenant-schemas-celery); the beat visits every tenant through
finfactory.tenancy.context.for_each_tenant."""

from __future__ import annotations

import time

import structlog
from celery import shared_task
from django.db import transaction
from django.utils import timezone

from finfactory.request_context import acting_as
from finfactory.tenancy.context import for_each_tenant

from . import dispatch
from .adapters.base import PayoutUnavailable
from .adapters.sandbox import parse_reference
from .models import TERMINAL, Operation
from .payouts import payout_poll, payout_result_record, payout_submit
from .saga import operation_run
from .workflows import WORKFLOWS

logger = structlog.get_logger(__name__)


@shared_task(name=dispatch.ADVANCE, ignore_result=True, acks_late=True)
def advance_operation(operation_id: str) -> str:
    with acting_as("system:products"):
        return operation_run(operation_id, WORKFLOWS).status


@shared_task(
    name=dispatch.SUBMIT_PAYOUT, ignore_result=True, acks_late=True, autoretry_for=(PayoutUnavailable,),
    retry_backoff=2, retry_backoff_max=300, max_retries=10,
)  # fmt: skip
def submit_payout(payout_id: str) -> str:
    with acting_as("system:products_payouts"):
        return payout_submit(payout_id=payout_id)


@shared_task(name=dispatch.POLL_PAYOUT, ignore_result=True, acks_late=True)
def poll_payout(payout_id: str) -> str:
    with acting_as("system:products_payouts"):
        return payout_poll(payout_id=payout_id)


@shared_task(name=dispatch.SANDBOX_PAYOUT_SETTLE, bind=True, ignore_result=True, acks_late=True, max_retries=20)
def sandbox_payout_settle(self, provider_reference: str) -> str:
    """The sandbox provider's answer, due at the time its reference names."""
    result, due = parse_reference(provider_reference)
    if time.time() < due:
        raise self.retry(countdown=max(0.1, due - time.time()))
    with acting_as("system:products_sandbox"):
        payout_result_record(result=result)
    return result.outcome


def operations_resume_due(*, limit: int = 200) -> int:
    """In the current tenant: run every unfinished operation whose lease has passed (a runner
    died, a task was lost, a wait is due for a poll). Returns how many were run."""
    with transaction.atomic():
        due = list(
            Operation.objects.select_for_update(skip_locked=True)
            .exclude(status__in=TERMINAL)
            .filter(next_attempt_at__lte=timezone.now())
            .order_by("next_attempt_at")
            .values_list("public_id", flat=True)[:limit]
        )
    for operation_id in due:
        try:
            operation_run(operation_id, WORKFLOWS)
        except Exception:  # one broken operation must not stop the sweep; it is logged and retried
            logger.exception("products.resume_failed", operation=operation_id)
    return len(due)


@shared_task(name="contexts.products.tasks.operations_resume", ignore_result=True)
def operations_resume() -> int:
    with acting_as("system:products_resume"):
        return sum(for_each_tenant(lambda tenant: operations_resume_due()).values())
