"""Maker-checker: request, approve (and run), reject, cancel. Each transition is audited."""

import json
from typing import Any

import structlog
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from finfactory.audit.services import audit_record
from finfactory.backoffice.approvals import action_get, action_run
from finfactory.backoffice.models import ApprovalRequest, ApprovalStatus
from finfactory.backoffice.roles import user_may_approve
from finfactory.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from finfactory.request_context import acting_as

logger = structlog.get_logger(__name__)

TARGET_TYPE = "approval_request"


def _actor(user) -> str:
    return f"user:{user.get_username()}"


def _audit(approval: ApprovalRequest, *, event: str, before: str | None, by, reason: str = "", **extra) -> None:
    audit_record(
        action=f"approval.{event}",
        target_type=TARGET_TYPE,
        target_id=approval.public_id,
        before=None if before is None else {"status": before},
        after={"status": approval.status, **extra},
        reason=reason,
        actor=_actor(by),
    )


def _require_reason(reason: object) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput(
            "A reason is required.",
            code="reason_required",
            errors=[FieldError("reason", "A reason is required.", "required")],
        )
    return reason.strip()


def _locked(approval_id: str) -> ApprovalRequest:
    approval = ApprovalRequest.objects.select_for_update().filter(public_id=approval_id).first()
    if approval is None:
        raise NotFound(f"No approval request {approval_id!r}.", code="approval_not_found")
    return approval


def _require_pending(approval: ApprovalRequest) -> None:
    if approval.status != ApprovalStatus.PENDING:
        raise Conflict(
            f"The request is {approval.status}; only pending requests can be decided.",
            code="invalid_transition",
            status=approval.status,
        )


def _require_checker(approval: ApprovalRequest, user) -> None:
    if not user_may_approve(user):
        raise Forbidden("Only an Approver can decide approval requests.", code="approver_required")
    if approval.requested_by_id == user.pk:
        raise Forbidden("Requests are decided by someone other than the requester.", code="self_approval_forbidden")


def approval_request_create(*, action: str, payload: dict[str, Any], requested_by, reason: str) -> ApprovalRequest:
    """Ask for a registered action to run once another member of staff approves it.

    Raises InvalidInput: unknown_action, invalid_payload, reason_required.
    """
    if action_get(action) is None:
        raise InvalidInput(
            f"Unknown action {action!r}.",
            code="unknown_action",
            errors=[FieldError("action", "Not a registered action.", "unknown_action")],
        )
    if not isinstance(payload, dict):
        raise InvalidInput(
            "The payload must be an object.",
            code="invalid_payload",
            errors=[FieldError("payload", "Must be an object.", "invalid_payload")],
        )
    reason = _require_reason(reason)
    with transaction.atomic():
        approval = ApprovalRequest.objects.create(
            action=action, payload=payload, reason=reason, requested_by=requested_by
        )
        _audit(approval, event="requested", before=None, by=requested_by, reason=reason, action=action)
    return approval


def _run_handler(approval: ApprovalRequest) -> tuple[dict | None, str]:
    """The handler's result, or the error that rolled its effects back to the savepoint. The
    handler runs as the approver: what it records (audit, events) names the person who let it run."""
    try:
        with transaction.atomic(), acting_as(_actor(approval.decided_by)):
            result = action_run(approval)
            if result is not None and not isinstance(result, dict):
                raise TypeError(f"the handler returned {type(result).__name__}, not a dict or None")
            # Stored as JSON: a value JSON cannot hold fails here, inside the savepoint.
            return json.loads(json.dumps(result, cls=DjangoJSONEncoder)), ""
    except Exception as exc:
        logger.warning("approval.handler_failed", approval=approval.public_id, action=approval.action, exc_info=True)
        return None, f"{type(exc).__name__}: {exc}"


def approval_approve(*, approval_id: str, approver) -> ApprovalRequest:
    """Approve a pending request and run its action once, all in one transaction.

    If the handler raises, its database effects are rolled back and the request ends `failed`
    with the error; otherwise it ends `executed` with the handler's result.
    Raises Forbidden (approver_required, self_approval_forbidden), Conflict (invalid_transition),
    NotFound (approval_not_found); none of them changes anything.
    """
    with transaction.atomic():
        approval = _locked(approval_id)
        _require_checker(approval, approver)
        _require_pending(approval)
        approval.approve(by=approver)
        approval.save()
        _audit(approval, event="approved", before=ApprovalStatus.PENDING, by=approver)

        result, error = _run_handler(approval)
        if error:
            approval.mark_failed(error=error)
            approval.save()
            _audit(approval, event="failed", before=ApprovalStatus.APPROVED, by=approver, error=error)
        else:
            approval.mark_executed(result=result)
            approval.save()
            _audit(approval, event="executed", before=ApprovalStatus.APPROVED, by=approver)
    return approval


def approval_reject(*, approval_id: str, approver, reason: str) -> ApprovalRequest:
    """Refuse a pending request. Same errors as approval_approve, plus InvalidInput reason_required."""
    reason = _require_reason(reason)
    with transaction.atomic():
        approval = _locked(approval_id)
        _require_checker(approval, approver)
        _require_pending(approval)
        approval.reject(by=approver, reason=reason)
        approval.save()
        _audit(approval, event="rejected", before=ApprovalStatus.PENDING, by=approver, reason=reason)
    return approval


def approval_cancel(*, approval_id: str, user) -> ApprovalRequest:
    """The requester withdraws a pending request. Forbidden requester_only for anyone else."""
    with transaction.atomic():
        approval = _locked(approval_id)
        if approval.requested_by_id != user.pk:
            raise Forbidden("Only the requester can cancel a request.", code="requester_only")
        _require_pending(approval)
        approval.cancel()
        approval.save()
        _audit(approval, event="cancelled", before=ApprovalStatus.PENDING, by=user)
    return approval
