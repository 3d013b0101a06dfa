"""The saga engine: one `Operation` per product operation, advanced one step at a time.

A step is one database transaction holding the operation's row lock: the primitives' calls it
makes (each with a reference derived from the operation's id, so a repeated call is answered
with the first result) and the operation's new state commit together, or not at all. A runner
that dies mid-step leaves the operation as it was before the step, and the step runs again.

- `operation_start` creates the operation and runs its first step (the limit reservation) in one
  transaction, after the policy checks: a refused operation leaves nothing behind.
- `operation_run` advances it until it succeeds, fails, or waits for the outside world (a fraud
  review, the payout adapter, the QR Ph network).
- A refusal in a step moves the operation to `compensating`; the compensation step gives back
  what was done (the hold, the limit usage) in one transaction, and the operation is `failed`
  with the refusal's code.
- `next_attempt_at` is a lease: whoever advances an operation pushes it forward; when it passes
  (the runner died, a task was lost, a wait is due for a poll), the beat task
  `tasks.operations_resume` runs the operation again.

Steps that call audited primitives (QR payments, wallet close) take the tenant's audit-chain lock
before the operation's row lock (docs/adr/0014). Steps write no audit record themselves: the
ledger and the operation row are the evidence of a customer's movement; operators' actions on
operations are audited (admin).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from finfactory.audit.services import audit_lock
from finfactory.errors import Conflict, FieldError, PlatformError, RetryableError
from finfactory.ids import new_id
from finfactory.outbox.publish import publish
from finfactory.tenantconfig import config_get

from .models import TERMINAL, Operation, OperationStatus
from .policy import api_error

logger = structlog.get_logger(__name__)

PREFIXES = {"cash_in": "cin", "cash_out": "cout", "transfer": "trf", "qr_payment": "qrp", "wallet_close": "wcl"}
MAX_STEPS_PER_RUN = 12


@dataclass(frozen=True)
class Step:
    """`run(op)` does the step's work and makes the operation's transition; `audited` steps call
    primitives that write audit records."""

    name: str
    run: Callable[[Operation], None]
    audited: bool = False


def lease() -> timedelta:
    return timedelta(seconds=config_get("products.saga_lease_seconds"))


def fingerprint(request: dict) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


def _replay(kind: str, reference: str, digest: str) -> Operation | None:
    found = Operation.objects.filter(kind=kind, reference=reference).first()
    if found is not None and found.fingerprint != digest:
        raise Conflict(
            "This reference was used for another request.",
            code="reference_reused",
            errors=[FieldError("reference", "Already used for another request.", "reference_reused")],
        )
    return found


def operation_start(*, kind: str, reference: str, request: dict, first: Step, **fields) -> tuple[Operation, bool]:
    """The operation for `reference`, created with its first step done; (operation, replayed)."""
    digest = fingerprint(request)
    existing = _replay(kind, reference, digest)
    if existing is not None:
        return existing, True
    try:
        with transaction.atomic():
            if first.audited:
                audit_lock()
            op = Operation.objects.create(
                public_id=new_id(PREFIXES[kind]),
                kind=kind,
                reference=reference,
                fingerprint=digest,
                request=request,
                next_attempt_at=timezone.now() + lease(),
                **fields,
            )
            try:
                first.run(op)
            except PlatformError as exc:
                raise api_error(exc) from exc
            op.attempts = 1
            _finish(op)
            op.save()
            _announce(op)
    except IntegrityError:
        existing = _replay(kind, reference, digest)  # a concurrent twin created it first
        if existing is None:
            raise
        return existing, True
    _failpoint(first)
    return op, False


def _announce(op: Operation) -> None:
    """operation.succeeded / operation.failed / operation.pending as the operation reaches them."""
    if op.status == OperationStatus.SUCCEEDED:
        name = "operation.succeeded"
    elif op.status == OperationStatus.FAILED:
        name = "operation.failed"
    elif op.status == OperationStatus.PENDING_REVIEW:
        name = "operation.pending"
    else:
        return
    publish(
        name,
        op.public_id,
        {
            "operation_id": op.public_id,
            "kind": op.kind,
            "status": op.status,
            "wallet_id": op.wallet_id,
            "counterparty_wallet_id": op.counterparty_wallet_id or None,
            "amount": op.amount,
            "fee": op.fee,
            "currency": op.currency,
            "transaction_id": op.entry_id or None,
            "failure_code": op.failure_code or None,
        },
    )


def _failpoint(step: Step) -> None:
    """Crash tests only: die like a killed process right after `step` committed
    (PRODUCTS_FAILPOINTS; production settings force it empty)."""
    if step.name in settings.PRODUCTS_FAILPOINTS:
        logger.warning("products.failpoint", step=step.name)
        os.kill(os.getpid(), signal.SIGKILL)


def _locked(public_id: str) -> Operation:
    return Operation.objects.select_for_update().get(public_id=public_id)


def fail(op: Operation, exc: PlatformError) -> None:
    """Record the refusal and move to compensation (the caller saves)."""
    exc = api_error(exc)
    op.failure_code, op.failure_detail = exc.code, str(exc.detail)[:500]
    op.fail()


def _finish(op: Operation) -> None:
    if op.status in TERMINAL:
        op.finished_at = timezone.now()
        op.next_attempt_at = None


def operation_run(public_id: str, workflows: dict) -> Operation:
    """Advance the operation until it is finished or waits; safe to call from anywhere, any
    number of times (steps serialise on the row lock and check the state they start from)."""
    op = Operation.objects.get(public_id=public_id)
    for _ in range(MAX_STEPS_PER_RUN):
        if op.status in TERMINAL:
            return op
        step = workflows[op.kind].step_for(op)
        if step is None:  # waiting for the outside world
            return op
        with transaction.atomic():
            if step.audited:
                audit_lock()
            op = _locked(public_id)
            if workflows[op.kind].step_for(op) != step:  # another runner moved it on meanwhile
                continue
            op.next_attempt_at = timezone.now() + lease()  # a step that waits sets its own time
            try:
                with transaction.atomic():
                    step.run(op)
            except RetryableError as exc:
                # A hot account or a busy primitive: the same step later, nothing was written.
                op.refresh_from_db()
                op.next_attempt_at = timezone.now() + timedelta(seconds=5)
                op.save(update_fields=["next_attempt_at", "updated_at"])
                logger.info("products.step_retry_later", operation=public_id, step=step.name, code=exc.code)
                return op
            except PlatformError as exc:
                op.refresh_from_db()
                op.next_attempt_at = timezone.now() + lease()
                fail(op, exc)
            op.attempts += 1
            _finish(op)
            op.save()
            _announce(op)
        _failpoint(step)
    return op


def operation_wait(op: Operation, seconds: float) -> None:
    """The operation waits for the outside world: the resume sweep polls it after `seconds`."""
    op.next_attempt_at = timezone.now() + timedelta(seconds=seconds)
