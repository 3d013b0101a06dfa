from django.contrib import admin, messages

from finfactory.outbox.drain import replay
from finfactory.outbox.models import InboxRecord, OutboxEvent
from finfactory.readonly_admin import ReadOnlyModelAdmin


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    """Dead letters are found with the status filter; "Replay" puts them back to the drain."""

    list_display = (
        "event_id",
        "type",
        "aggregate_type",
        "aggregate_id",
        "sequence",
        "status",
        "attempts",
        "occurred_at",
        "delivered_at",
    )
    list_filter = ("status", "type")
    search_fields = ("event_id", "aggregate_id", "request_id")
    readonly_fields = [f.name for f in OutboxEvent._meta.fields]
    actions = ["replay_events"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Replay selected events (inbox prevents repeated effects)")
    def replay_events(self, request, queryset):
        replay(events=list(queryset))
        self.message_user(request, f"{queryset.count()} event(s) queued for delivery.", messages.SUCCESS)


@admin.register(InboxRecord)
class InboxRecordAdmin(ReadOnlyModelAdmin):
    list_display = ("handler", "event_id", "handled_at")
    search_fields = ("handler", "event_id")
    readonly_fields = ("handler", "event_id", "handled_at")
