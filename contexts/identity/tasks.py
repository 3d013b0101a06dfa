"""Celery tasks. They take public ids and provider references, never personal data, and run in
the schema of the tenant that queued them (tenant-schemas-celery); the beat tasks visit every
tenant through finfactory.tenancy.context.for_each_tenant."""

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
from .adapters import provider_get
from .adapters.base import ProviderUnavailable
from .adapters.sandbox import SandboxProvider, parse_reference
from .expiry import kyc_expire_due
from .kyc import kyc_decision_apply, kyc_submission_send
from .models import KycSubmission, SubmissionStatus

logger = structlog.get_logger(__name__)


@shared_task(
    name=dispatch.SEND_SUBMISSION,
    ignore_result=True,
    acks_late=True,
    autoretry_for=(ProviderUnavailable,),
    retry_backoff=5,
    retry_backoff_max=600,
    max_retries=10,
)
def send_submission(submission_id: str) -> str:
    """Hand a submission to its provider; retried with backoff while the provider is unavailable
    (the reconcile beat picks up whatever is still unsent after the retries)."""
    with acting_as("system:kyc_dispatch"):
        return kyc_submission_send(submission_id=submission_id)


@shared_task(name=dispatch.SANDBOX_DECIDE, bind=True, ignore_result=True, acks_late=True, max_retries=20)
def sandbox_decide(self, provider_reference: str) -> str:
    """The sandbox provider's answer, due at the time its reference names."""
    decision, due = parse_reference(provider_reference)
    if time.time() < due:
        raise self.retry(countdown=max(0.1, due - time.time()))
    try:
        kyc_decision_apply(provider=SandboxProvider.name, decision=decision)
    except Conflict as conflict:  # decided meanwhile (e.g. by the reconcile beat): nothing to do
        logger.info("identity.sandbox_decision_ignored", submission=decision.submission_id, code=conflict.code)
        return conflict.code
    return decision.outcome


def reconcile_pending(*, limit: int = 200) -> dict[str, int]:
    """In the current tenant: re-send submissions still unsent, poll those sent but undecided,
    both once older than IDENTITY_KYC_RECONCILE_AFTER_SECONDS."""
    cutoff = timezone.now() - timedelta(seconds=settings.IDENTITY_KYC_RECONCILE_AFTER_SECONDS)
    pending = KycSubmission.objects.filter(status=SubmissionStatus.PENDING, submitted_at__lte=cutoff)
    counts = {"resent": 0, "polled": 0, "decided": 0, "unavailable": 0}
    for submission_id in pending.filter(sent_at__isnull=True).values_list("public_id", flat=True)[:limit]:
        counts["resent"] += dispatch.send_submission_now(submission_id)
    sent = pending.filter(sent_at__lte=cutoff).values_list("public_id", "provider", "provider_reference")
    for submission_id, provider, reference in sent[:limit]:
        counts["polled"] += 1
        try:
            decision = provider_get(provider).fetch_status(reference)
        except ProviderUnavailable:
            counts["unavailable"] += 1
            continue
        if decision is None:
            continue
        try:
            kyc_decision_apply(provider=provider, decision=decision)
            counts["decided"] += 1
        except Conflict as conflict:
            logger.info("identity.reconcile_decision_ignored", submission=submission_id, code=conflict.code)
    return counts


@shared_task(name="contexts.identity.tasks.reconcile_kyc", ignore_result=True)
def reconcile_kyc() -> dict:
    """Beat, every IDENTITY_KYC_RECONCILE_SECONDS: the safety net for a lost task or callback."""
    with acting_as("system:kyc_reconcile"):
        results = for_each_tenant(lambda tenant: reconcile_pending(), include_suspended=False)
    return {slug: counts for slug, counts in results.items() if any(counts.values())}


@shared_task(name="contexts.identity.tasks.expire_kyc", ignore_result=True)
def expire_kyc() -> dict[str, int]:
    """Beat, every IDENTITY_KYC_EXPIRY_SECONDS: in every tenant, expire the verifications whose
    expiry has passed (kyc.expired; the customer's level becomes none)."""
    with acting_as("system:kyc_expiry"):
        results = for_each_tenant(lambda tenant: kyc_expire_due())
    expired = {slug: n for slug, n in results.items() if n}
    if expired:
        logger.info("identity.kyc_expired", tenants=len(expired), cases=sum(expired.values()))
    return expired
