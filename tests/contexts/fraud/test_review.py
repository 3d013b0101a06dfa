"""The review flow end to end: a held movement, an operator's decision in the admin (with a second
person above the dual-control amount), the event orchestration waits for, and the training label."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from contexts.fraud import api, review, services
from contexts.fraud.models import Assessment, ReviewCase
from finfactory.audit.models import AuditRecord
from finfactory.backoffice.models import ApprovalRequest
from finfactory.errors import Conflict, InvalidInput, NotFound
from finfactory.tenancy.models import Domain

from .conftest import events, last_event_id, writes


@pytest.fixture
def host(tenant_row):
    domain = f"{tenant_row.schema_name.replace('_', '-')}.admin.localhost"
    Domain.objects.get_or_create(domain=domain, tenant=tenant_row, defaults={"is_primary": True})
    return domain


@pytest.fixture
def staff(fraud):
    def make(username: str, role: str | None = None):
        user = get_user_model().objects.create_user(username=username, password=None, is_staff=True)
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def held(customer, rule):
    """held(amount) scores a movement that a reviewing rule sends to review; returns the assessment."""
    rule("amount_threshold", {"currency": "PHP", "min_amount": 100_000}, action="review", weight=0)

    def make(amount: int = 150_000):
        return api.score(**customer().move(amount=amount))

    return make


def decide_in_admin(client, host, case_pk: int, decision: str, reason: str = "Customer confirmed by phone"):
    action = {"action": f"{decision}_cases", "_selected_action": [case_pk]}
    asking = client.post("/admin/fraud/reviewcase/", action, HTTP_HOST=host)
    assert asking.status_code == 200 and b'name="reason"' in asking.content
    return client.post("/admin/fraud/reviewcase/", {**action, "apply": "1", "reason": reason}, HTTP_HOST=host)


def test_an_operator_approves_a_held_movement_in_the_admin(held, host, client, staff):
    assessment = held()
    case = ReviewCase.objects.get(public_id=assessment.case_id)
    client.force_login(staff("operator", "Operator"))
    since = last_event_id()

    done = decide_in_admin(client, host, case.pk, "approve")

    assert done.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.decided_by, case.decision_reason) == ("approved", "user:operator",
                                                                    "Customer confirmed by phone")  # fmt: skip
    name, data = events(since)[-1]
    assert (name, data["source"], data["case_id"], data["assessment_id"]) == (
        "risk.approved", "review", case.public_id, assessment.id
    )  # fmt: skip
    stored = Assessment.objects.get(public_id=assessment.id)
    assert (stored.label, stored.label_source) == (False, "review")
    assert AuditRecord.objects.filter(action="fraud.case_approved", target_id=case.public_id,
                                      actor="user:operator").exists()  # fmt: skip
    assert api.assessment_get(assessment_id=assessment.id).case_status == "approved"


def test_a_declined_review_becomes_a_fraud_label(held, fraud, staff):
    assessment = held()
    since = last_event_id()

    decided = review.case_decide(case_id=assessment.case_id, decision="decline", reason="ATO confirmed",
                                 decided_by=staff("op", "Operator"))  # fmt: skip

    assert decided.status == "declined"
    assert events(since)[-1][0] == "risk.declined"
    assert Assessment.objects.get(public_id=assessment.id).label is True


def test_above_the_dual_control_amount_a_second_person_must_confirm(held, host, client, staff):
    services.settings_update(review_threshold=600, decline_threshold=900, dual_control_amounts={"PHP": 1_000_000},
                             reason="dual control")  # fmt: skip
    small, large = held(150_000), held(2_000_000)
    operator = staff("maker", "Operator")
    client.force_login(operator)

    decide_in_admin(client, host, ReviewCase.objects.get(public_id=small.case_id).pk, "decline")
    decide_in_admin(client, host, ReviewCase.objects.get(public_id=large.case_id).pk, "approve")

    assert ReviewCase.objects.get(public_id=small.case_id).status == "declined"
    large_case = ReviewCase.objects.get(public_id=large.case_id)
    approval = ApprovalRequest.objects.get(public_id=large_case.approval_id)
    assert (large_case.status, approval.action, approval.payload) == (
        "open", "fraud.review_decide", {"case_id": large_case.public_id, "decision": "approve"}
    )  # fmt: skip
    with pytest.raises(Conflict) as again:
        review.case_decide(case_id=large.case_id, decision="decline", reason="x", decided_by=operator)
    assert again.value.code == "decision_already_requested"

    # The maker cannot approve their own request; an Approver can.
    client.post("/admin/backoffice/approvalrequest/", {"action": "approve_selected", "_selected_action": [approval.pk]},
                HTTP_HOST=host)  # fmt: skip
    assert ApprovalRequest.objects.get(pk=approval.pk).status == "pending"
    client.force_login(staff("checker", "Approver"))
    since = last_event_id()
    approved = client.post(
        "/admin/backoffice/approvalrequest/",
        {"action": "approve_selected", "_selected_action": [approval.pk]},
        HTTP_HOST=host,
    )

    assert approved.status_code == 302
    assert ApprovalRequest.objects.get(pk=approval.pk).status == "executed"
    large_case.refresh_from_db()
    assert (large_case.status, large_case.decided_by) == ("approved", "user:checker")
    assert [(name, data["source"]) for name, data in events(since) if name.startswith("risk.")] == [
        ("risk.approved", "review")
    ]


def test_a_case_is_decided_once(held, fraud, staff):
    assessment = held()
    operator = staff("op", "Operator")
    review.case_decide(case_id=assessment.case_id, decision="approve", reason="ok", decided_by=operator)
    before = writes()

    with pytest.raises(Conflict) as twice:
        review.case_decide(case_id=assessment.case_id, decision="decline", reason="changed my mind",
                           decided_by=operator)  # fmt: skip

    assert twice.value.code == "case_already_decided"
    assert writes() == before


def test_bad_decisions_name_the_field_and_write_nothing(held, fraud, staff):
    assessment = held()
    operator = staff("op", "Operator")
    before = writes()

    for kwargs, error, field in [
        ({"decision": "maybe", "reason": "x"}, InvalidInput, "decision"),
        ({"decision": "approve", "reason": ""}, InvalidInput, "reason"),
        ({"decision": "approve", "reason": "x", "case_id": "rev_unknown"}, NotFound, "case_id"),
    ]:
        with pytest.raises(error) as refused:
            review.case_decide(**{"case_id": assessment.case_id, **kwargs}, decided_by=operator)
        assert refused.value.errors[0].field == field
    assert writes() == before
    assert ReviewCase.objects.get(public_id=assessment.case_id).status == "open"


def test_a_viewer_cannot_decide_and_the_queue_lists_open_cases(held, host, client, staff):
    first, second = held(), held()
    client.force_login(staff("viewer", "Viewer"))

    listing = client.get("/admin/fraud/reviewcase/", HTTP_HOST=host)
    client.post("/admin/fraud/reviewcase/", {"action": "approve_cases", "apply": "1", "reason": "x",
                                             "_selected_action": [ReviewCase.objects.get(public_id=first.case_id).pk]},
                HTTP_HOST=host)  # fmt: skip

    assert listing.status_code == 200 and b"approve_cases" not in listing.content
    assert ReviewCase.objects.get(public_id=first.case_id).status == "open"
    queue = api.review_cases_list(limit=1)
    assert [case.id for case in queue.items] == [second.case_id] and queue.has_more
    rest = api.review_cases_list(limit=5, cursor=queue.next_cursor)
    assert [case.id for case in rest.items] == [first.case_id] and not rest.has_more
    with pytest.raises(InvalidInput):
        api.review_cases_list(status="pending")
