import io

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from finfactory.backoffice.roles import roles_sync
from finfactory.tenancy.context import in_tenant


def _permissions(role: str) -> set[str]:
    return {
        f"{app_label}.{codename}"
        for app_label, codename in Group.objects.get(name=role).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def _tenant_models():
    tenant_apps = set(settings.TENANT_APPS)
    return [model for model in apps.get_models() if model._meta.app_config.name in tenant_apps]


def test_a_newly_provisioned_tenant_has_the_three_roles_with_their_permissions(make_tenant):
    provisioned = make_tenant("roles")

    with in_tenant(provisioned.tenant):
        names = sorted(Group.objects.values_list("name", flat=True))
        viewer, operator, approver = _permissions("Viewer"), _permissions("Operator"), _permissions("Approver")

    every_view = {f"{m._meta.app_label}.view_{m._meta.model_name}" for m in _tenant_models()}
    assert provisioned.schema_created_by == "cloned"
    assert names == ["Approver", "Operator", "Viewer"]
    assert viewer == every_view
    assert {"backoffice.view_approvalrequest", "audit.view_auditrecord", "auth.view_user"} <= viewer
    assert not any(".add_" in p or ".change_" in p or ".delete_" in p for p in viewer)
    assert {"backoffice.add_approvalrequest", "backoffice.change_approvalrequest"} <= operator - viewer
    assert "backoffice.approve_approvalrequest" not in operator
    assert approver == operator | {"backoffice.approve_approvalrequest"}


def test_operators_cannot_edit_staff_permissions_or_the_audit_trail(in_acme):
    operator = _permissions("Operator")

    forbidden = {
        "auth.change_user",
        "auth.add_user",
        "auth.change_group",
        "auth.add_permission",
        "audit.add_auditrecord",
        "audit.change_auditrecord",
        "admin.change_logentry",
    }
    assert operator & forbidden == set()
    assert not any(".delete_" in p for p in operator)


def test_users_get_their_role_permissions(staff):
    viewer, operator, approver = staff("vera", "Viewer"), staff("otto", "Operator"), staff("ada", "Approver")

    assert viewer.has_perm("backoffice.view_approvalrequest")
    assert not viewer.has_perm("backoffice.change_approvalrequest")
    assert operator.has_perm("backoffice.change_approvalrequest")
    assert not operator.has_perm("backoffice.approve_approvalrequest")
    assert approver.has_perm("backoffice.approve_approvalrequest")


def test_the_public_schema_has_no_roles(db):
    assert Group.objects.filter(name__in=["Viewer", "Operator", "Approver"]).count() == 0


def test_roles_sync_repairs_missing_and_removes_stray_permissions(in_acme):
    operator = Group.objects.get(name="Operator")
    expected = _permissions("Operator")
    operator.permissions.remove(Permission.objects.get(codename="change_approvalrequest"))
    operator.permissions.add(Permission.objects.get(codename="delete_approvalrequest"))

    counts = roles_sync()

    assert _permissions("Operator") == expected
    assert counts == {"Viewer": len(_permissions("Viewer")), "Operator": len(expected), "Approver": len(expected) + 1}
    assert Group.objects.filter(name="Operator").count() == 1


def test_sync_roles_command_recreates_a_deleted_role_in_the_named_tenant(in_acme):
    expected = _permissions("Viewer")
    Group.objects.filter(name="Viewer").delete()
    out = io.StringIO()

    call_command("sync_roles", "--tenant", in_acme.slug, stdout=out)

    with in_tenant(in_acme):
        assert _permissions("Viewer") == expected
    counts = roles_sync()
    assert out.getvalue() == (
        f"{in_acme.slug}: Viewer {counts['Viewer']}, Operator {counts['Operator']}, "
        f"Approver {counts['Approver']} permissions\n"
    )
