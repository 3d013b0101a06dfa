"""Clearing a risk flag under maker-checker (finfactory.backoffice).

An operator requests the clearance with a reason (the admin's "Request clearance" action); a
second member of staff with the Approver role approves it in the approval requests admin; the
approval runs `clear_approved` once, in its transaction: the flag is cleared and, if it was the
customer's last open flag, a verification it held completes (kyc.verified).
"""

from __future__ import annotations

from django.db import transaction

from finfactory.audit.services import audit_record
from finfactory.backoffice.models import ApprovalRequest, ApprovalStatus
from finfactory.backoffice.services import approval_request_create
from finfactory.errors import Conflict, FieldError

from . import kyc, locks, risk

CLEAR_ACTION = "identity.risk_flag_clear"
CLEAR_DESCRIPTION = "Clear a watchlist risk flag on a customer (a false positive)"


def risk_flag_clearance_request(*, flag_id: str, requested_by, reason: str) -> ApprovalRequest:
    """Ask for an open flag to be cleared. Conflict risk_flag_not_open, clearance_already_requested
    (a request for it is still pending); InvalidInput reason_required."""
    with transaction.atomic():
        locks.audit_chain()
        flag = risk.risk_flag_row(flag_id, lock=True)
        risk.require_open(flag)
        if (
            flag.clearance_approval_id
            and ApprovalRequest.objects.filter(
                public_id=flag.clearance_approval_id, status=ApprovalStatus.PENDING
            ).exists()
        ):
            raise Conflict(
                "A clearance of this flag is already waiting for approval.",
                code="clearance_already_requested",
                errors=[FieldError("flag_id", "Already waiting for approval.", "clearance_already_requested")],
            )
        approval = approval_request_create(
            action=CLEAR_ACTION, payload={"flag_id": flag.public_id}, requested_by=requested_by, reason=reason
        )
        flag.clearance_approval_id = approval.public_id
        flag.save(update_fields=["clearance_approval_id"])
        audit_record(
            action="risk.clearance_requested",
            target_type="risk_flag",
            target_id=flag.public_id,
            after={"status": flag.status, "approval_id": approval.public_id},
            actor=f"user:{requested_by.get_username()}",
        )
    return approval


def clear_approved(payload: dict, *, approval: ApprovalRequest) -> dict:
    """The approved request's handler (registered in IdentityConfig.ready)."""
    actor = f"user:{approval.decided_by.get_username()}"
    flag = risk.risk_flag_clear(flag_id=payload.get("flag_id"), by=actor, approval_id=approval.public_id)
    verified = kyc.kyc_verification_release(customer_pk=flag.customer_id, actor=actor)
    return {"flag_id": flag.public_id, "customer_id": flag.customer.public_id, "kyc_verified": verified}
