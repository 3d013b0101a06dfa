"""A cash-out's payout: handed to its adapter outside any transaction, its answer recorded once.

The operation waits in `submitted` meanwhile; recording the answer queues its next step
(capture, or release and give back the limits).
"""

from __future__ import annotations

import structlog
from django.db import transaction
from django.utils import timezone

from . import adapters, dispatch
from .adapters.base import FAILED, PayoutRequest, PayoutResult
from .models import Payout, PayoutStatus

logger = structlog.get_logger(__name__)


def payout_submit(*, payout_id: str) -> str:
    """Submit (again, under the same id, if a submission was lost); the answer may come at once."""
    payout = Payout.objects.get(public_id=payout_id)
    if payout.status != PayoutStatus.SUBMITTED:
        return payout.status
    adapter = adapters.payout_adapter(payout.adapter)
    if payout.provider_reference:  # submitted before: ask instead of sending it twice
        result = adapter.fetch_status(payout.provider_reference)
    else:
        submitted = adapter.submit(
            PayoutRequest(payout_id=payout.public_id, amount=payout.amount, currency=payout.currency,
                          destination=payout.destination)
        )  # fmt: skip
        Payout.objects.filter(pk=payout.pk, provider_reference="").update(
            provider_reference=submitted.provider_reference
        )
        result = submitted.result
    if result is not None:
        payout_result_record(result=result)
    return "decided" if result is not None else "submitted"


def payout_poll(*, payout_id: str) -> str:
    payout = Payout.objects.get(public_id=payout_id)
    if payout.status != PayoutStatus.SUBMITTED:
        return payout.status
    if not payout.provider_reference:
        return payout_submit(payout_id=payout_id)
    result = adapters.payout_adapter(payout.adapter).fetch_status(payout.provider_reference)
    if result is None:
        return "submitted"
    payout_result_record(result=result)
    return "decided"


def payout_result_record(*, result: PayoutResult) -> bool:
    """Record the provider's answer once (a repeated or late answer changes nothing); the
    operation's next step is queued after commit. False if it was already decided."""
    with transaction.atomic():
        payout = Payout.objects.select_for_update().select_related("operation").get(public_id=result.payout_id)
        if payout.status != PayoutStatus.SUBMITTED:
            logger.info("products.payout_result_ignored", payout=result.payout_id, status=payout.status)
            return False
        payout.status = PayoutStatus.FAILED if result.outcome == FAILED else PayoutStatus.SUCCEEDED
        payout.failure_reason = result.reason
        payout.provider_reference = payout.provider_reference or result.provider_reference
        payout.decided_at = timezone.now()
        payout.save()
        dispatch.advance_after_commit(payout.operation.public_id)
    return True
