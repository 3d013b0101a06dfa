"""Celery tasks. They take public ids and network references only and run in the schema of the
tenant that queued them (tenant-schemas-celery); the beat visits every tenant through
finfactory.tenancy.context.for_each_tenant."""

from __future__ import annotations

import time
from datetime import timedelta

import structlog
from celery import shared_task
from django.conf import settings
from django.utils import timezone

from finfactory.errors import Conflict
from finfactory.request_context import acting_as
from finfactory.tenancy.context import for_each_tenant

from . import dispatch
from .adapters import network_get
from .adapters.base import NetworkUnavailable
from .adapters.sandbox import parse_reference
from .models import PaymentStatus, QrPayment, Route
from .payments import qr_payment_network_result, qr_payment_submit

logger = structlog.get_logger(__name__)


@shared_task(
    name=dispatch.SUBMIT_PAYMENT, ignore_result=True, acks_late=True, autoretry_for=(NetworkUnavailable,),
    retry_backoff=2, retry_backoff_max=300, max_retries=10,
)  # fmt: skip
def submit_payment(payment_id: str) -> str:
    with acting_as("system:qrph_network"):
        return qr_payment_submit(payment_id=payment_id)


@shared_task(name=dispatch.SANDBOX_SETTLE, bind=True, ignore_result=True, acks_late=True, max_retries=20)
def sandbox_settle(self, network_reference: str) -> str:
    """The sandbox network's answer, due at the time its reference names."""
    result, due = parse_reference(network_reference)
    if time.time() < due:
        raise self.retry(countdown=max(0.1, due - time.time()))
    with acting_as("system:qrph_sandbox"):
        try:
            qr_payment_network_result(result=result)
        except Conflict as conflict:
            logger.info("qrph.sandbox_result_ignored", payment=result.payment_id, code=conflict.code)
            return conflict.code
    return result.outcome


def reconcile_pending(*, limit: int = 200) -> dict[str, int]:
    """In the current tenant: re-submit off-us payments never submitted and poll those submitted
    but undecided, once older than QRPH_RECONCILE_AFTER_SECONDS."""
    cutoff = timezone.now() - timedelta(seconds=settings.QRPH_RECONCILE_AFTER_SECONDS)
    pending = QrPayment.objects.filter(route=Route.OFF_US, status=PaymentStatus.PENDING, created_at__lte=cutoff)
    counts = {"resubmitted": 0, "polled": 0, "decided": 0, "unavailable": 0}
    for payment_id in pending.filter(network_reference="").values_list("public_id", flat=True)[:limit]:
        counts["resubmitted"] += dispatch.submit_payment_now(payment_id)
    submitted = pending.exclude(network_reference="").values_list("public_id", "network", "network_reference")
    for payment_id, network, reference in submitted[:limit]:
        counts["polled"] += 1
        try:
            result = network_get(network).fetch_status(reference)
        except NetworkUnavailable:
            counts["unavailable"] += 1
            continue
        if result is None:
            continue
        try:
            qr_payment_network_result(result=result)
            counts["decided"] += 1
        except Conflict as conflict:
            logger.info("qrph.reconcile_result_ignored", payment=payment_id, code=conflict.code)
    return counts


@shared_task(name="contexts.qrph.tasks.reconcile_payments", ignore_result=True)
def reconcile_payments() -> dict:
    """Beat, every QRPH_RECONCILE_SECONDS: the safety net for a lost submission or result."""
    with acting_as("system:qrph_reconcile"):
        results = for_each_tenant(lambda tenant: reconcile_pending(), include_suspended=False)
    return {slug: counts for slug, counts in results.items() if any(counts.values())}
