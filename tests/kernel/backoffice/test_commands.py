import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from finfactory.audit.models import AuditRecord
from finfactory.tenancy.context import in_tenant


def _create(*args: str) -> str:
    out = io.StringIO()
    call_command("create_staff_user", *args, stdout=out)
    return out.getvalue()


def test_a_staff_user_is_created_in_the_tenant_with_the_role_and_the_given_password(tenant):
    output = _create(
        "--tenant", tenant.slug, "--username", "olga", "--email", "olga@acme.test", "--role", "Operator",
        "--password", "a-long-enough-passphrase",
    )  # fmt: skip

    with in_tenant(tenant):
        user = get_user_model().objects.get(username="olga")
        groups = list(user.groups.values_list("name", flat=True))
        audited = AuditRecord.objects.filter(action="staff_user.created").values_list("target_id", "actor", "after")
        audited = list(audited)
    assert (user.email, user.is_staff, user.is_superuser, groups) == ("olga@acme.test", True, False, ["Operator"])
    assert user.check_password("a-long-enough-passphrase")
    assert output == f"Created Operator 'olga' in {tenant.slug}.\n"
    assert audited == [
        ("olga", "system:create_staff_user", {"email": "olga@acme.test", "role": "Operator", "is_staff": True})
    ]
    assert get_user_model().objects.filter(username="olga").count() == 0  # not in the public schema


def test_without_a_password_one_is_generated_and_printed_once(tenant):
    output = _create("--tenant", tenant.slug, "--username", "ada", "--email", "ada@acme.test", "--role", "Approver")

    lines = output.splitlines()
    password = re.fullmatch(r"Password \(shown once\): (\S+)", lines[1]).group(1)
    with in_tenant(tenant):
        user = get_user_model().objects.get(username="ada")
        assert user.check_password(password)
        assert user.has_perm("backoffice.approve_approvalrequest")
    assert lines[0] == f"Created Approver 'ada' in {tenant.slug}."
    assert len(password) >= 20
    assert output.count(password) == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--role", "Admin"), "--role must be one of Viewer, Operator, Approver, got 'Admin'"),
        (("--role", "Viewer", "--password", "short"), "password refused"),
    ],
)
def test_a_bad_role_or_weak_password_is_refused_and_nothing_is_written(tenant, extra, message):
    with pytest.raises(CommandError) as refused:
        _create("--tenant", tenant.slug, "--username", "vera", "--email", "vera@acme.test", *extra)

    assert message in str(refused.value)
    with in_tenant(tenant):
        assert get_user_model().objects.filter(username="vera").count() == 0
        assert AuditRecord.objects.filter(action="staff_user.created").count() == 0


def test_an_existing_username_is_refused(tenant):
    args = ("--tenant", tenant.slug, "--username", "vera", "--email", "vera@acme.test", "--role", "Viewer")
    _create(*args)

    with pytest.raises(CommandError, match="a user 'vera' already exists in this tenant"):
        _create(*args)

    with in_tenant(tenant):
        assert AuditRecord.objects.filter(action="staff_user.created").count() == 1


def test_an_unknown_tenant_is_refused(db):
    with pytest.raises(CommandError, match="no tenant 'nope'"):
        _create("--tenant", "nope", "--username", "vera", "--email", "v@x.test", "--role", "Viewer")
