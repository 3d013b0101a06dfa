import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.db import connection
from django.test import RequestFactory

from finfactory.backoffice.admin import ApprovalRequestAdmin
from finfactory.backoffice.models import ApprovalRequest
from finfactory.backoffice.services import approval_request_create


@pytest.fixture
def model_admin():
    return ApprovalRequestAdmin(ApprovalRequest, admin.site)


def _request(user, data=None):
    request = RequestFactory().post("/admin/backoffice/approvalrequest/", data or {})
    request.user = user
    request.tenant = connection.tenant  # as the tenant host routing sets it
    request._messages = CookieStorage(request)
    return request


def _messages(request) -> list[str]:
    return [message.message for message in get_messages(request)]


@pytest.fixture
def pending(maker, adjust_action):
    return approval_request_create(
        action="test.adjust", payload={"account": "acc_1", "amount": 5}, requested_by=maker, reason="fix"
    )


def test_the_approve_action_runs_the_service_and_reports_the_outcome(model_admin, pending, checker):
    request = _request(checker)

    model_admin.approve_selected(request, ApprovalRequest.objects.filter(pk=pending.pk))

    assert ApprovalRequest.objects.get(pk=pending.pk).status == "executed"
    assert _messages(request) == [f"{pending.public_id}: executed"]


def test_a_refused_approval_is_shown_to_the_user_and_changes_nothing(model_admin, pending, staff):
    request = _request(staff("otto", "Operator"))

    model_admin.approve_selected(request, ApprovalRequest.objects.filter(pk=pending.pk))

    assert ApprovalRequest.objects.get(pk=pending.pk).status == "pending"
    assert _messages(request) == [f"{pending.public_id}: Only an Approver can decide approval requests."]


def test_reject_asks_for_a_reason_first_then_rejects(model_admin, pending, checker):
    asking = _request(checker)
    page = model_admin.reject_selected(asking, ApprovalRequest.objects.filter(pk=pending.pk))
    page.render()

    assert ApprovalRequest.objects.get(pk=pending.pk).status == "pending"
    assert b'name="reason"' in page.content
    assert pending.public_id.encode() in page.content

    deciding = _request(checker, {"apply": "1", "reason": "not needed"})
    assert model_admin.reject_selected(deciding, ApprovalRequest.objects.filter(pk=pending.pk)) is None

    stored = ApprovalRequest.objects.get(pk=pending.pk)
    assert (stored.status, stored.decision_reason) == ("rejected", "not needed")
    assert _messages(deciding) == [f"{pending.public_id}: rejected"]


def test_requests_cannot_be_added_changed_or_deleted_in_the_admin(model_admin, checker, pending):
    request = _request(checker)

    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, pending)
    assert not model_admin.has_delete_permission(request, pending)
