"""Admin for records nobody edits by hand (audit trail, approvals, idempotency, inbox): they are
written only by the services that own them, so the admin may look but not add, change or delete."""

from django.contrib import admin


class ReadOnlyModelAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
