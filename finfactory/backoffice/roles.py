"""The staff roles of a tenant's back office, as auth Groups in the tenant's schema.

Viewer    sees every model of the tenant apps.
Operator  Viewer + adds and changes business records.
Approver  Operator + approves maker-checker requests made by others.
"""

from django.apps import apps
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import DEFAULT_DB_ALIAS, transaction

VIEWER = "Viewer"
OPERATOR = "Operator"
APPROVER = "Approver"
ROLES = (VIEWER, OPERATOR, APPROVER)
APPROVE_PERMISSION = "backoffice.approve_approvalrequest"

# Operators never get add/change on these apps: editing users, groups or permissions would let
# an Operator make themselves Approver (and approve their own requests), the audit trail is
# append-only, and sessions, content types and the admin log are bookkeeping, not business data.
_NOT_OPERATED_APPS = frozenset({"auth", "contenttypes", "sessions", "admin", "audit"})


def _tenant_app_configs():
    tenant_apps = set(settings.TENANT_APPS)
    return [config for config in apps.get_app_configs() if config.name in tenant_apps and config.models_module]


def _wanted_codenames() -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(app_label, codename) pairs for viewing, and for adding/changing."""
    view, operate = set(), set()
    for config in _tenant_app_configs():
        for model in config.get_models():
            name = model._meta.model_name
            view.add((config.label, f"view_{name}"))
            if config.label not in _NOT_OPERATED_APPS:
                operate.update({(config.label, f"add_{name}"), (config.label, f"change_{name}")})
    return view, operate


def roles_sync(*, using: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """Create the role groups in the current schema and set their permissions exactly.

    Idempotent; returns the number of permissions per role. Permissions are created first, so
    the result does not depend on the order in which apps' post_migrate handlers ran.
    """
    configs = _tenant_app_configs()
    for config in configs:
        create_permissions(config, verbosity=0, using=using)
    view, operate = _wanted_codenames()
    approve_app, approve_codename = APPROVE_PERMISSION.split(".")
    by_key = {
        (permission.content_type.app_label, permission.codename): permission
        for permission in Permission.objects.using(using)
        .select_related("content_type")
        .filter(content_type__app_label__in=[config.label for config in configs])
    }
    viewer = [by_key[key] for key in sorted(view) if key in by_key]
    operator = viewer + [by_key[key] for key in sorted(operate) if key in by_key]
    approver = [*operator, by_key[(approve_app, approve_codename)]]

    counts = {}
    with transaction.atomic(using=using):
        for role, permissions in ((VIEWER, viewer), (OPERATOR, operator), (APPROVER, approver)):
            group, _ = Group.objects.using(using).get_or_create(name=role)
            group.permissions.set(permissions)
            counts[role] = len(permissions)
    return counts


def user_may_approve(user) -> bool:
    """Approvers by group or by permission (which includes active superusers)."""
    if not user.is_active:
        return False
    return user.groups.filter(name=APPROVER).exists() or user.has_perm(APPROVE_PERMISSION)
