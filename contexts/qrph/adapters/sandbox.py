"""The sandbox QR Ph network: simulates InstaPay asynchronously through Celery, deterministically.

Outcomes are steered by the amount's centavos (amount % 100):

    13 → failed, reason `network_declined`
    14 → failed, reason `receiving_account_invalid`
    anything else → confirmed

QRPH_SANDBOX_SETTLE_SECONDS after submission. The result is written into the network reference
(`sandbox:<payment id>:<outcome>:<reason>:<due, unix seconds>`), so the sandbox keeps no state:
`fetch_status` reads the reference, and the `sandbox_settle` task queued at submission is only
the fast path — if it is lost, the reconcile beat polls the same answer.
"""

from __future__ import annotations

import time

from django.conf import settings

from ..dispatch import sandbox_settle_later
from .base import CONFIRMED, FAILED, NetworkAdapter, NetworkResult, PaymentRequest, SubmitResult

PREFIX = "sandbox"
STEERED_FAILURES = {13: "network_declined", 14: "receiving_account_invalid"}


def outcome_for(amount: int) -> tuple[str, str]:
    reason = STEERED_FAILURES.get(amount % 100)
    return (FAILED, reason) if reason else (CONFIRMED, "")


class SandboxNetwork(NetworkAdapter):
    name = "sandbox"

    def submit(self, request: PaymentRequest) -> SubmitResult:
        outcome, reason = outcome_for(request.amount)
        delay = float(settings.QRPH_SANDBOX_SETTLE_SECONDS)
        reference = f"{PREFIX}:{request.payment_id}:{outcome}:{reason}:{time.time() + delay:.3f}"
        sandbox_settle_later(reference, seconds=delay)
        return SubmitResult(network_reference=reference)

    def fetch_status(self, network_reference: str) -> NetworkResult | None:
        result, due = parse_reference(network_reference)
        return result if time.time() >= due else None


def parse_reference(reference: str) -> tuple[NetworkResult, float]:
    prefix, payment_id, outcome, reason, due = reference.split(":")
    if prefix != PREFIX or outcome not in (CONFIRMED, FAILED):
        raise ValueError(f"not a sandbox reference: {reference!r}")
    return NetworkResult(payment_id=payment_id, outcome=outcome, network_reference=reference, reason=reason), float(due)
