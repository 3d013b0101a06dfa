"""The review queue: an operator approves or declines a movement the scoring held.

A case is decided once (django-fsm, under its row lock). The decision is announced with
`risk.approved` or `risk.declined` (source "review", with the case id), on which orchestration
captures or releases the funds it holds, and it becomes the assessment's training label
(declined: fraud; approved: legitimate).

From the tenant's dual-control amount of the case's currency (`FraudSettings.dual_control_amounts`)
up, the operator's decision is only a request (finfactory.backoffice maker-checker): a different
member of staff with the Approver role approves it, and the decision then takes effect as theirs.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from finfactory.audit.services import audit_lock, audit_record
from finfactory.backoffice.approvals import register_action
from finfactory.backoffice.models import ApprovalRequest, ApprovalStatus
from finfactory.backoffice.services import approval_request_create
from finfactory.errors import Conflict, FieldError
from finfactory.outbox.publish import publish
from finfactory.request_context import acting_as

from . import validation
from .dtos import ReviewCaseDTO
from .models import CaseStatus, ReviewCase
from .selectors import case_dto, case_row, decision_payload, settings_get
from .services import label_apply

REVIEW_ACTION = "fraud.review_decide"
DECISIONS = ("approve", "decline")


def _decision(value: object) -> str:
    if value not in DECISIONS:
        raise validation.invalid("decision", "approve or decline.", "invalid_choice")
    return value  # type: ignore[return-value]


def _require_open(case: ReviewCase) -> None:
    if case.status != CaseStatus.OPEN:
        raise Conflict(
            f"The case was already {case.status}.",
            code="case_already_decided",
            errors=[FieldError("case_id", f"Already {case.status}.", "case_already_decided")],
        )


def needs_second_person(case: ReviewCase) -> bool:
    threshold = settings_get().dual_control_amounts.get(case.currency)
    return threshold is not None and case.amount >= threshold


def _apply(case: ReviewCase, *, decision: str, actor: str, reason: str) -> None:
    before = case.status
    case.approve() if decision == "approve" else case.decline()
    case.decided_at, case.decided_by, case.decision_reason = timezone.now(), actor, reason
    case.save()
    assessment = case.assessment
    label_apply(assessment, fraudulent=decision == "decline", source="review")
    publish(
        "risk.approved" if decision == "approve" else "risk.declined",
        assessment.public_id,
        decision_payload(assessment, source="review", case=case),
    )
    audit_record(
        action=f"fraud.case_{case.status}",
        target_type="fraud_review_case",
        target_id=case.public_id,
        before={"status": before},
        after={"status": case.status, "assessment_id": assessment.public_id, "approval_id": case.approval_id or None},
        reason=reason,
        actor=actor,
    )


def case_decide(*, case_id: str, decision: str, reason: str, decided_by) -> ReviewCaseDTO:
    """An operator's decision on an open case. Takes effect at once, or — from the dual-control
    amount up — becomes an approval request (`approval_id` set, the case still open).
    Conflict `case_already_decided`, `decision_already_requested`; NotFound `case_not_found`."""
    decision = _decision(decision)
    reason = validation.reason(reason)
    actor = f"user:{decided_by.get_username()}"
    with transaction.atomic():
        audit_lock()
        case = case_row(case_id, lock=True)
        _require_open(case)
        if (
            case.approval_id
            and ApprovalRequest.objects.filter(public_id=case.approval_id, status=ApprovalStatus.PENDING).exists()
        ):
            raise Conflict(
                "A decision on this case is already waiting for approval.",
                code="decision_already_requested",
                errors=[FieldError("case_id", "Already waiting for approval.", "decision_already_requested")],
            )
        if needs_second_person(case):
            approval = approval_request_create(
                action=REVIEW_ACTION,
                payload={"case_id": case.public_id, "decision": decision},
                requested_by=decided_by,
                reason=reason,
            )
            case.approval_id = approval.public_id
            case.save(update_fields=["approval_id"])
            audit_record(
                action="fraud.case_decision_requested",
                target_type="fraud_review_case",
                target_id=case.public_id,
                after={"status": case.status, "decision": decision, "approval_id": approval.public_id},
                reason=reason,
                actor=actor,
            )
        else:
            _apply(case, decision=decision, actor=actor, reason=reason)
    return case_dto(case)


def case_decision_approved(payload: dict, *, approval) -> dict:
    """The approved request's handler: the decision takes effect as the approver's act, once."""
    actor = f"user:{approval.decided_by.get_username()}"
    with acting_as(actor):
        case = case_row(payload.get("case_id"), lock=True)
        _require_open(case)
        decision = _decision(payload.get("decision"))
        _apply(case, decision=decision, actor=actor, reason=f"{approval.reason} (approval {approval.public_id})")
    return {"case_id": case.public_id, "status": case.status}


def register() -> None:
    register_action(
        REVIEW_ACTION,
        handler=case_decision_approved,
        description="Approve or decline a fraud review case above the dual-control amount",
    )
