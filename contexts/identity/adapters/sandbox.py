"""The sandbox KYC provider: a deterministic stand-in that answers asynchronously through Celery.

An `id_number` ending in `0000` is rejected (reason `document_rejected`); any other is verified
at the requested level, IDENTITY_SANDBOX_DECISION_SECONDS after the submission is sent.

The decision is written into the provider reference itself
(`sandbox:<submission id>:<outcome>:<level>:<decide at, unix seconds>`), so the sandbox keeps no
state: `fetch_status` reads the reference, and the `sandbox_decide` task queued at submission is
only the fast path — if it is lost, the reconcile beat polls the same answer.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from django.conf import settings

from ..dispatch import sandbox_decision_later
from .base import REJECTED, VERIFIED, Decision, KycProvider, MalformedCallback, SubmissionRequest, SubmitResult

REJECTED_SUFFIX = "0000"
PREFIX = "sandbox"


class SandboxProvider(KycProvider):
    name = "sandbox"

    def submit(self, request: SubmissionRequest) -> SubmitResult:
        outcome = REJECTED if request.id_number.endswith(REJECTED_SUFFIX) else VERIFIED
        delay = float(settings.IDENTITY_SANDBOX_DECISION_SECONDS)
        reference = f"{PREFIX}:{request.reference}:{outcome}:{request.level}:{time.time() + delay:.3f}"
        sandbox_decision_later(reference, seconds=delay)
        return SubmitResult(provider_reference=reference)

    def fetch_status(self, provider_reference: str) -> Decision | None:
        decision, decide_at = parse_reference(provider_reference)
        return decision if time.time() >= decide_at else None

    def handle_callback(self, *, headers: Mapping[str, str], body: bytes) -> Decision:
        raise MalformedCallback("The sandbox provider sends no callbacks.", code="callbacks_not_supported")


def parse_reference(reference: str) -> tuple[Decision, float]:
    """The decision a sandbox reference carries and when it is due."""
    try:
        prefix, submission_id, outcome, level, decide_at = reference.split(":")
        due = float(decide_at)
    except ValueError:
        raise MalformedCallback("Not a sandbox reference.", code="invalid_provider_reference") from None
    if prefix != PREFIX or outcome not in (VERIFIED, REJECTED):
        raise MalformedCallback("Not a sandbox reference.", code="invalid_provider_reference")
    decision = Decision(
        submission_id=submission_id,
        outcome=outcome,
        provider_reference=reference,
        level=level if outcome == VERIFIED else None,
        reason="document_rejected" if outcome == REJECTED else "",
    )
    return decision, due
