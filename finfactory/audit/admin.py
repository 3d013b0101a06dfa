"""The audit trail in the admin: browsable and searchable, never editable."""

from django.contrib import admin

from finfactory.audit.models import AuditRecord
from finfactory.readonly_admin import ReadOnlyModelAdmin


@admin.register(AuditRecord)
class AuditRecordAdmin(ReadOnlyModelAdmin):
    list_display = ("public_id", "occurred_at", "actor", "action", "target_type", "target_id", "request_id")
    list_filter = ("action", "actor")
    search_fields = ("target_id", "request_id")
    date_hierarchy = "occurred_at"
    readonly_fields = [field.name for field in AuditRecord._meta.fields]
    # Counting a large trail on every page view is slow and tells an auditor nothing.
    show_full_result_count = False
