"""Webhook endpoints in a tenant's back office: looked at, searched, disabled and enabled.

The secret is never shown (nor even loaded: the columns are deferred); its last characters tell
secrets apart. Endpoints are created and deleted through the API only. The actions go through the
services, so each change is audited under the acting staff user; a deleted endpoint cannot be
enabled again.
"""

from django.contrib import admin, messages

from finfactory.errors import PlatformError
from finfactory.readonly_admin import TenantOnlyAdmin
from finfactory.request_context import acting_as

from . import services
from .models import WebhookDelivery, WebhookDeliveryAttempt, WebhookEndpoint

_SECRETS = ("secret", "previous_secret")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(TenantOnlyAdmin, admin.ModelAdmin):
    list_display = ("public_id", "url", "events_shown", "enabled", "secret_shown", "created_at", "deleted_at")
    list_filter = ("enabled", ("deleted_at", admin.EmptyFieldListFilter))
    search_fields = ("public_id", "url", "description")
    date_hierarchy = "created_at"
    fields = (
        "public_id", "url", "events", "description", "enabled", "secret_shown", "previous_secret_expires_at",
        "failure_streak", "failing_since", "created_at", "updated_at", "deleted_at",
    )  # fmt: skip
    readonly_fields = fields
    actions = ("disable_endpoints", "enable_endpoints")

    def get_queryset(self, request):
        return super().get_queryset(request).defer(*_SECRETS)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # The list's actions need the change permission; one endpoint's page is read-only.
        return obj is None and self._in_tenant() and super().has_change_permission(request)

    @admin.display(description="Events")
    def events_shown(self, obj) -> str:
        return ", ".join(obj.events)

    @admin.display(description="Secret")
    def secret_shown(self, obj) -> str:
        return f"whsec_…{obj.secret_last4}"

    def _set_enabled(self, request, queryset, *, enabled: bool) -> None:
        changed, refused = 0, []
        with acting_as(f"user:{request.user.pk}"):
            for endpoint in queryset.filter(deleted_at__isnull=True, enabled=not enabled):
                try:
                    services.endpoint_enabled_set(
                        endpoint_id=endpoint.public_id, enabled=enabled,
                        reason=f"{'Enabled' if enabled else 'Disabled'} in the admin",
                    )  # fmt: skip
                    changed += 1
                except PlatformError as exc:
                    refused.append(f"{endpoint.public_id}: {exc.detail}")
        word = "enabled" if enabled else "disabled"
        self.message_user(request, f"{changed} endpoint(s) {word}.", messages.SUCCESS)
        if refused:
            self.message_user(request, "Not changed: " + "; ".join(refused), messages.WARNING)

    @admin.action(description="Disable selected endpoints (pause deliveries)", permissions=["change"])
    def disable_endpoints(self, request, queryset) -> None:
        self._set_enabled(request, queryset, enabled=False)

    @admin.action(description="Enable selected endpoints (resume deliveries)", permissions=["change"])
    def enable_endpoints(self, request, queryset) -> None:
        self._set_enabled(request, queryset, enabled=True)


class WebhookDeliveryAttemptInline(admin.TabularInline):
    model = WebhookDeliveryAttempt
    fields = ("number", "status_code", "error", "latency_ms", "response_excerpt", "manual", "at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(TenantOnlyAdmin, admin.ModelAdmin):
    """The delivery log: each event sent to each endpoint, its attempts, and *Redeliver*."""

    list_display = (
        "public_id", "event_type", "endpoint_shown", "status", "attempts", "last_status_code", "next_attempt_at",
        "created_at",
    )  # fmt: skip
    list_filter = ("status", "event_type")
    search_fields = ("public_id", "event_id", "aggregate_id", "endpoint__public_id")
    date_hierarchy = "created_at"
    fields = (
        "public_id", "endpoint_shown", "event_id", "event_type", "aggregate_type", "aggregate_id", "sequence",
        "status", "attempts", "next_attempt_at", "last_status_code", "last_error", "delivered_at", "payload",
        "created_at", "updated_at",
    )  # fmt: skip
    readonly_fields = fields
    inlines = (WebhookDeliveryAttemptInline,)
    actions = ("redeliver",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("endpoint").defer(*(f"endpoint__{s}" for s in _SECRETS))

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and self._in_tenant() and super().has_change_permission(request)

    @admin.display(description="Endpoint")
    def endpoint_shown(self, obj) -> str:
        return obj.endpoint.public_id

    @admin.action(description="Redeliver selected deliveries (a new attempt now)", permissions=["change"])
    def redeliver(self, request, queryset) -> None:
        done, refused = 0, []
        with acting_as(f"user:{request.user.pk}"):
            for delivery in queryset.select_related("endpoint"):
                try:
                    services.delivery_redeliver(endpoint_id=delivery.endpoint.public_id, delivery_id=delivery.public_id)
                    done += 1
                except PlatformError as exc:
                    refused.append(f"{delivery.public_id}: {exc.detail}")
        self.message_user(request, f"{done} deliver(y/ies) queued again.", messages.SUCCESS)
        if refused:
            self.message_user(request, "Not redelivered: " + "; ".join(refused), messages.WARNING)
