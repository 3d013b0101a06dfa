"""Back-office fixtures: the test runs inside a fresh tenant's schema, with staff and an action."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from finfactory.audit.services import audit_record
from finfactory.backoffice.approvals import register_action, unregister_action
from finfactory.tenancy.context import in_tenant


@pytest.fixture
def in_acme(tenant):
    with in_tenant(tenant):
        yield tenant


@pytest.fixture
def staff(in_acme):
    """staff(username, role) -> a staff user of the tenant in that role group (role None: no group)."""

    def make(username: str, role: str | None, **fields):
        user = get_user_model().objects.create_user(username=username, password=None, is_staff=True, **fields)
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def maker(staff):
    return staff("maker", "Operator")


@pytest.fixture
def checker(staff):
    return staff("checker", "Approver")


@pytest.fixture
def adjust_action():
    """A registered action whose handler records its calls and leaves a trace in the database."""
    calls = []

    def adjust(payload: dict, *, approval) -> dict:
        calls.append((payload, approval.public_id))
        audit_record(action="test.adjusted", target_type="account", target_id=payload["account"])
        return {"adjusted": payload["amount"]}

    register_action("test.adjust", handler=adjust, description="Adjust an account (tests)")
    yield calls
    unregister_action("test.adjust")


@pytest.fixture
def failing_action():
    """A registered action whose handler writes to the database and then raises."""
    calls = []

    def explode(payload: dict, *, approval) -> dict:
        calls.append(payload)
        audit_record(action="test.half_done", target_type="account", target_id=payload["account"])
        raise RuntimeError("ledger closed")

    register_action("test.explode", handler=explode, description="Fails halfway (tests)")
    yield calls
    unregister_action("test.explode")
