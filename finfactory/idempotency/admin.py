from django.contrib import admin

from finfactory.idempotency.models import IdempotencyRecord
from finfactory.readonly_admin import ReadOnlyModelAdmin


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyModelAdmin):
    list_display = ("key", "method", "path", "response_status", "owner", "created_at", "expires_at")
    search_fields = ("key", "owner", "path")
    list_filter = ("method", "response_status")
    exclude = ("response_body",)
    readonly_fields = [f.name for f in IdempotencyRecord._meta.fields if f.name != "response_body"]
