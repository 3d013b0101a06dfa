"""Admin for records nobody edits by hand (audit trail, approvals, idempotency, inbox): they are
written only by the services that own them, so the admin may look but not add, change or delete."""

from django.contrib import admin
from django.db import connection
from django_tenants.utils import get_public_schema_name


class ReadOnlyModelAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class TenantOnlyAdmin:
    """A mixin for the admins of tenant apps: their tables exist in tenant schemas only, so the
    platform operators' admin (public schema) does not offer them."""

    def _in_tenant(self) -> bool:
        return connection.schema_name != get_public_schema_name()

    def has_module_permission(self, request) -> bool:
        return self._in_tenant() and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._in_tenant() and super().has_view_permission(request, obj)
