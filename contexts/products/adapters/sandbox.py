"""The sandbox payout provider: answers asynchronously through Celery, deterministically.

Outcomes are steered by the amount's minor units (amount % 100):

    13 → failed, reason `destination_declined`
    14 → failed, reason `destination_account_closed`
    15 → no answer at all until polled after PRODUCTS_SANDBOX_PAYOUT_SILENT_SECONDS (a provider
         that loses the callback: the resume sweep's poll finds the result, succeeded)
    anything else → succeeded

PRODUCTS_SANDBOX_PAYOUT_SECONDS after submission. The result is written into the provider
reference (`sandbox:<payout id>:<outcome>:<reason>:<due, unix seconds>`), so the sandbox keeps no
state: `fetch_status` reads the reference; the settle task queued at submission is the fast path.
"""

from __future__ import annotations

import time

from django.conf import settings

from .base import FAILED, SUCCEEDED, PayoutAdapter, PayoutRequest, PayoutResult, SubmitResult

PREFIX = "sandbox"
STEERED_FAILURES = {13: "destination_declined", 14: "destination_account_closed"}
SILENT = 15


class SandboxPayouts(PayoutAdapter):
    name = "sandbox"

    def submit(self, request: PayoutRequest) -> SubmitResult:
        from ..dispatch import sandbox_payout_settle_later

        reason = STEERED_FAILURES.get(request.amount % 100, "")
        outcome = FAILED if reason else SUCCEEDED
        silent = request.amount % 100 == SILENT
        delay = float(
            settings.PRODUCTS_SANDBOX_PAYOUT_SILENT_SECONDS if silent else settings.PRODUCTS_SANDBOX_PAYOUT_SECONDS
        )
        reference = f"{PREFIX}:{request.payout_id}:{outcome}:{reason}:{time.time() + delay:.3f}"
        if not silent:
            sandbox_payout_settle_later(reference, seconds=delay)
        return SubmitResult(provider_reference=reference)

    def fetch_status(self, provider_reference: str) -> PayoutResult | None:
        result, due = parse_reference(provider_reference)
        return result if time.time() >= due else None


def parse_reference(reference: str) -> tuple[PayoutResult, float]:
    prefix, payout_id, outcome, reason, due = reference.split(":")
    if prefix != PREFIX or outcome not in (SUCCEEDED, FAILED):
        raise ValueError(f"not a sandbox payout reference: {reference!r}")
    return PayoutResult(payout_id=payout_id, outcome=outcome, provider_reference=reference, reason=reason), float(due)
