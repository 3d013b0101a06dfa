import pytest

from finfactory.audit.models import AuditRecord
from finfactory.audit.verify import audit_chain_verify
from finfactory.backoffice.approvals import register_action, unregister_action
from finfactory.backoffice.models import ApprovalRequest, ApprovalStatus
from finfactory.backoffice.services import (
    approval_approve,
    approval_cancel,
    approval_reject,
    approval_request_create,
)
from finfactory.errors import Conflict, Forbidden, InvalidInput, NotFound

PAYLOAD = {"account": "acc_1", "amount": 1500}


def _request(maker, action: str = "test.adjust") -> ApprovalRequest:
    return approval_request_create(action=action, payload=PAYLOAD, requested_by=maker, reason="reverse a duplicate")


def _trail() -> list[tuple]:
    """What the approvals and the test handlers recorded (provisioning records its own too)."""
    return list(
        AuditRecord.objects.filter(target_type__in=["approval_request", "account"])
        .order_by("id")
        .values_list("action", "actor", "before", "after")
    )


def _state(approval: ApprovalRequest) -> tuple:
    return ApprovalRequest.objects.filter(pk=approval.pk).values_list("status", "decided_by", "result", "error").get()


def test_a_request_is_pending_and_audited(maker, adjust_action):
    approval = _request(maker)

    assert _state(approval) == ("pending", None, None, "")
    assert (approval.action, approval.payload, approval.reason) == ("test.adjust", PAYLOAD, "reverse a duplicate")
    assert _trail() == [("approval.requested", "user:maker", None, {"status": "pending", "action": "test.adjust"})]
    assert AuditRecord.objects.get(action="approval.requested").target_id == approval.public_id
    assert adjust_action == []


def test_an_unknown_action_is_refused_naming_the_field_and_nothing_is_written(maker):
    with pytest.raises(InvalidInput) as refused:
        approval_request_create(action="ledger.print_money", payload={}, requested_by=maker, reason="why not")

    assert refused.value.code == "unknown_action"
    assert [(e.field, e.code) for e in refused.value.errors] == [("action", "unknown_action")]
    assert ApprovalRequest.objects.count() == 0
    assert _trail() == []


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_request_without_a_reason_is_refused_and_nothing_is_written(maker, adjust_action, reason):
    with pytest.raises(InvalidInput) as refused:
        approval_request_create(action="test.adjust", payload=PAYLOAD, requested_by=maker, reason=reason)

    assert refused.value.code == "reason_required"
    assert [e.field for e in refused.value.errors] == ["reason"]
    assert ApprovalRequest.objects.count() == 0
    assert _trail() == []


def test_an_approver_runs_the_action_once_and_every_transition_is_audited(maker, checker, adjust_action):
    approval = _request(maker)

    approved = approval_approve(approval_id=approval.public_id, approver=checker)

    assert adjust_action == [(PAYLOAD, approval.public_id)]
    assert _state(approval) == ("executed", checker.pk, {"adjusted": 1500}, "")
    stored = ApprovalRequest.objects.get(pk=approval.pk)
    assert stored.decided_at is not None and stored.executed_at is not None
    assert approved.status == ApprovalStatus.EXECUTED
    assert _trail() == [
        ("approval.requested", "user:maker", None, {"status": "pending", "action": "test.adjust"}),
        ("approval.approved", "user:checker", {"status": "pending"}, {"status": "approved"}),
        ("test.adjusted", "user:checker", None, None),  # the handler runs as the approver
        ("approval.executed", "user:checker", {"status": "approved"}, {"status": "executed"}),
    ]
    assert audit_chain_verify().ok


def test_an_operator_cannot_approve_and_nothing_changes(maker, staff, adjust_action):
    approval = _request(maker)
    operator = staff("otto", "Operator")

    with pytest.raises(Forbidden) as refused:
        approval_approve(approval_id=approval.public_id, approver=operator)

    assert refused.value.code == "approver_required"
    assert _state(approval) == ("pending", None, None, "")
    assert [row[0] for row in _trail()] == ["approval.requested"]
    assert adjust_action == []


def test_a_viewer_or_an_inactive_approver_cannot_approve(maker, staff, adjust_action):
    approval = _request(maker)

    for user in (staff("vera", "Viewer"), staff("gone", "Approver", is_active=False)):
        with pytest.raises(Forbidden) as refused:
            approval_approve(approval_id=approval.public_id, approver=user)
        assert refused.value.code == "approver_required"

    assert _state(approval) == ("pending", None, None, "")
    assert [row[0] for row in _trail()] == ["approval.requested"]


def test_the_requester_cannot_approve_their_own_request_even_as_approver(staff, adjust_action):
    approver_maker = staff("ada", "Approver")
    approval = _request(approver_maker)

    with pytest.raises(Forbidden) as refused:
        approval_approve(approval_id=approval.public_id, approver=approver_maker)

    assert refused.value.code == "self_approval_forbidden"
    assert _state(approval) == ("pending", None, None, "")
    assert [row[0] for row in _trail()] == ["approval.requested"]
    assert adjust_action == []


def test_a_superuser_with_the_permission_may_approve_without_the_group(maker, staff, adjust_action):
    approval = _request(maker)
    root = staff("root", None, is_superuser=True)

    approval_approve(approval_id=approval.public_id, approver=root)

    assert _state(approval) == ("executed", root.pk, {"adjusted": 1500}, "")


def test_a_failing_handler_rolls_back_its_writes_and_the_request_fails(maker, checker, failing_action):
    approval = _request(maker, action="test.explode")

    failed = approval_approve(approval_id=approval.public_id, approver=checker)

    assert failing_action == [PAYLOAD]
    assert failed.status == ApprovalStatus.FAILED
    assert _state(approval) == ("failed", checker.pk, None, "RuntimeError: ledger closed")
    assert AuditRecord.objects.filter(action="test.half_done").count() == 0
    assert _trail() == [
        ("approval.requested", "user:maker", None, {"status": "pending", "action": "test.explode"}),
        ("approval.approved", "user:checker", {"status": "pending"}, {"status": "approved"}),
        (
            "approval.failed",
            "user:checker",
            {"status": "approved"},
            {"status": "failed", "error": "RuntimeError: ledger closed"},
        ),
    ]
    assert audit_chain_verify().ok


def test_a_handler_returning_something_other_than_a_dict_fails_the_request(maker, checker):
    register_action("test.bad_result", handler=lambda payload, *, approval: ["not", "a", "dict"], description="")
    try:
        approval = _request(maker, action="test.bad_result")
        approval_approve(approval_id=approval.public_id, approver=checker)
    finally:
        unregister_action("test.bad_result")

    assert _state(approval) == ("failed", checker.pk, None, "TypeError: the handler returned list, not a dict or None")


def test_an_action_unregistered_since_the_request_fails_the_request(maker, checker, adjust_action):
    approval = _request(maker)
    unregister_action("test.adjust")

    approval_approve(approval_id=approval.public_id, approver=checker)

    assert _state(approval) == ("failed", checker.pk, None, "LookupError: action 'test.adjust' is no longer registered")


def test_approving_twice_is_an_invalid_transition_and_runs_nothing_again(maker, checker, staff, adjust_action):
    approval = _request(maker)
    approval_approve(approval_id=approval.public_id, approver=checker)
    trail = _trail()

    with pytest.raises(Conflict) as refused:
        approval_approve(approval_id=approval.public_id, approver=staff("ada", "Approver"))

    assert refused.value.code == "invalid_transition"
    assert adjust_action == [(PAYLOAD, approval.public_id)]
    assert _state(approval) == ("executed", checker.pk, {"adjusted": 1500}, "")
    assert _trail() == trail


def test_an_approver_rejects_with_a_reason(maker, checker, adjust_action):
    approval = _request(maker)

    approval_reject(approval_id=approval.public_id, approver=checker, reason="  duplicate of apr_x  ")

    stored = ApprovalRequest.objects.get(pk=approval.pk)
    assert (stored.status, stored.decided_by, stored.decision_reason) == ("rejected", checker, "duplicate of apr_x")
    assert _trail()[-1] == ("approval.rejected", "user:checker", {"status": "pending"}, {"status": "rejected"})
    assert AuditRecord.objects.get(action="approval.rejected").reason == "duplicate of apr_x"
    assert adjust_action == []


def test_rejection_needs_a_reason_an_approver_and_someone_other_than_the_requester(staff, checker, adjust_action):
    approver_maker = staff("ada", "Approver")
    approval = _request(approver_maker)

    with pytest.raises(InvalidInput) as no_reason:
        approval_reject(approval_id=approval.public_id, approver=checker, reason=" ")
    with pytest.raises(Forbidden) as operator:
        approval_reject(approval_id=approval.public_id, approver=staff("otto", "Operator"), reason="no")
    with pytest.raises(Forbidden) as own:
        approval_reject(approval_id=approval.public_id, approver=approver_maker, reason="no")

    assert (no_reason.value.code, operator.value.code, own.value.code) == (
        "reason_required",
        "approver_required",
        "self_approval_forbidden",
    )
    assert _state(approval) == ("pending", None, None, "")
    assert [row[0] for row in _trail()] == ["approval.requested"]


def test_the_requester_cancels_and_no_one_else_can(maker, checker, adjust_action):
    approval = _request(maker)

    with pytest.raises(Forbidden) as refused:
        approval_cancel(approval_id=approval.public_id, user=checker)
    assert refused.value.code == "requester_only"
    assert _state(approval) == ("pending", None, None, "")
    assert [row[0] for row in _trail()] == ["approval.requested"]

    approval_cancel(approval_id=approval.public_id, user=maker)

    assert _state(approval) == ("cancelled", None, None, "")
    assert _trail()[-1] == ("approval.cancelled", "user:maker", {"status": "pending"}, {"status": "cancelled"})


def test_an_unknown_request_is_not_found(checker):
    with pytest.raises(NotFound) as refused:
        approval_approve(approval_id="apr_nope", approver=checker)

    assert refused.value.code == "approval_not_found"
    assert _trail() == []
