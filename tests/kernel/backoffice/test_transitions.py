"""The full transition table: every operation from every state, by service and by model."""

import pytest
from django.contrib.auth.models import User
from django_fsm import TransitionNotAllowed, can_proceed

from finfactory.audit.models import AuditRecord
from finfactory.backoffice.models import ApprovalRequest, ApprovalStatus
from finfactory.backoffice.services import approval_approve, approval_cancel, approval_reject, approval_request_create
from finfactory.errors import Conflict

DECIDED = [s for s in ApprovalStatus.values if s != ApprovalStatus.PENDING]

# method -> the states it may leave from and the state it leads to
MODEL_TRANSITIONS = {
    "approve": ({"pending"}, "approved"),
    "reject": ({"pending"}, "rejected"),
    "cancel": ({"pending"}, "cancelled"),
    "mark_executed": ({"approved"}, "executed"),
    "mark_failed": ({"approved"}, "failed"),
}
ARGUMENTS = {
    "approve": lambda user: {"by": user},
    "reject": lambda user: {"by": user, "reason": "no"},
    "cancel": lambda user: {},
    "mark_executed": lambda user: {"result": None},
    "mark_failed": lambda user: {"error": "boom"},
}


@pytest.fixture
def request_in(maker, adjust_action):
    """A request forced into a state (as the database could hold it), bypassing the services."""

    def make(status: str) -> ApprovalRequest:
        approval = approval_request_create(action="test.adjust", payload={"account": "a", "amount": 1},
                                           requested_by=maker, reason="r")  # fmt: skip
        ApprovalRequest.objects.filter(pk=approval.pk).update(status=status)
        return ApprovalRequest.objects.get(pk=approval.pk)

    return make


def _operations(maker, checker):
    return {
        "approve": lambda a: approval_approve(approval_id=a.public_id, approver=checker),
        "reject": lambda a: approval_reject(approval_id=a.public_id, approver=checker, reason="no"),
        "cancel": lambda a: approval_cancel(approval_id=a.public_id, user=maker),
    }


@pytest.mark.parametrize("status", DECIDED)
def test_no_service_operation_leaves_a_decided_state_and_nothing_is_written(
    request_in, maker, checker, adjust_action, status
):
    approval = request_in(status)
    records_before = AuditRecord.objects.count()

    for operation, run in _operations(maker, checker).items():
        with pytest.raises(Conflict) as refused:
            run(approval)

        assert refused.value.code == "invalid_transition", operation
        assert ApprovalRequest.objects.values_list("status", "decided_by", "decided_at", "result", "error").get(
            pk=approval.pk
        ) == (status, None, None, None, ""), operation
        assert AuditRecord.objects.count() == records_before, operation
    assert adjust_action == []


@pytest.mark.parametrize("status", ApprovalStatus.values)
@pytest.mark.parametrize("method", list(MODEL_TRANSITIONS))
def test_the_model_allows_exactly_the_designed_transitions(status, method):
    # Transitions only change attributes; an unsaved request and user are enough.
    approval = ApprovalRequest(action="test.adjust", payload={}, reason="r", status=status)
    sources, target = MODEL_TRANSITIONS[method]
    bound = getattr(approval, method)

    assert can_proceed(bound) == (status in sources)
    if status in sources:
        bound(**ARGUMENTS[method](User(username="checker")))
        assert approval.status == target
    else:
        with pytest.raises(TransitionNotAllowed):
            bound(**ARGUMENTS[method](User(username="checker")))
        assert approval.status == status


def test_the_status_cannot_be_assigned_directly(request_in):
    approval = request_in("pending")

    with pytest.raises(AttributeError, match="Direct status modification is not allowed"):
        approval.status = ApprovalStatus.EXECUTED

    approval.refresh_from_db()
    assert approval.status == "pending"
