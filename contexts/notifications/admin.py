"""Notifications in a tenant's back office: templates (editable; a saved template overrides the
shipped default for its event and channel, and is checked to compile), notifications (read-only,
with a "retry dead letters" action), preferences, recipients (addresses masked) and what the
sandboxes "sent"."""

from django import forms
from django.contrib import admin, messages

from finfactory.pii import mask, mask_email
from finfactory.readonly_admin import ReadOnlyModelAdmin, TenantOnlyAdmin
from finfactory.request_context import acting_as

from . import services
from .models import CustomerPreference, Notification, NotificationTemplate, Recipient, SandboxMessage
from .rendering import template_check


class NotificationTemplateForm(forms.ModelForm):
    class Meta:
        model = NotificationTemplate
        fields = ("event_type", "channel", "subject", "body", "enabled")

    def _compiled(self, field: str) -> str:
        source = self.cleaned_data.get(field, "")
        try:
            template_check(source)
        except Exception as exc:
            raise forms.ValidationError(f"Template error: {exc}") from None
        return source

    def clean_subject(self) -> str:
        return self._compiled("subject")

    def clean_body(self) -> str:
        return self._compiled("body")


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(TenantOnlyAdmin, admin.ModelAdmin):
    form = NotificationTemplateForm
    list_display = ("event_type", "channel", "enabled", "updated_at")
    list_filter = ("event_type", "channel", "enabled")


@admin.register(Notification)
class NotificationAdmin(TenantOnlyAdmin, ReadOnlyModelAdmin):
    list_display = ("public_id", "kind", "channel", "customer_id", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status", "channel", "kind")
    search_fields = ("public_id", "customer_id", "event_id")
    date_hierarchy = "created_at"
    readonly_fields = (
        "public_id", "event_id", "event_type", "kind", "category", "customer_id", "channel", "template_source",
        "subject", "body", "status", "attempts", "next_attempt_at", "last_error", "provider_message_id",
        "created_at", "updated_at", "sent_at",
    )  # fmt: skip
    fields = readonly_fields
    actions = ("retry_dead_letters",)

    def has_change_permission(self, request, obj=None) -> bool:
        # The list's action needs the change permission; one notification's page stays read-only.
        return obj is None and self._in_tenant() and admin.ModelAdmin.has_change_permission(self, request)

    @admin.action(description="Retry selected dead letters")
    def retry_dead_letters(self, request, queryset):
        ids = list(queryset.values_list("public_id", flat=True))
        with acting_as(f"staff:{request.user.pk}"):
            count = services.dead_letters_retry(notification_ids=ids)
        self.message_user(request, f"{count} dead letter(s) queued again.", messages.SUCCESS)


@admin.register(CustomerPreference)
class CustomerPreferenceAdmin(TenantOnlyAdmin, ReadOnlyModelAdmin):
    list_display = ("customer_id", "channel", "category", "opted_out", "updated_at")
    list_filter = ("channel", "category", "opted_out")
    search_fields = ("customer_id",)


@admin.register(Recipient)
class RecipientAdmin(TenantOnlyAdmin, ReadOnlyModelAdmin):
    list_display = ("customer_id", "email_shown", "phone_shown", "has_push_token", "locale", "updated_at")
    search_fields = ("customer_id",)
    fields = ("customer_id", "email_shown", "phone_shown", "has_push_token", "locale", "created_at", "updated_at")
    readonly_fields = fields

    @admin.display(description="E-mail")
    def email_shown(self, obj) -> str:
        return mask_email(obj.email)

    @admin.display(description="Phone")
    def phone_shown(self, obj) -> str:
        return mask(obj.phone, visible=4)

    @admin.display(description="Push token", boolean=True)
    def has_push_token(self, obj) -> bool:
        return bool(obj.push_token)


@admin.register(SandboxMessage)
class SandboxMessageAdmin(TenantOnlyAdmin, ReadOnlyModelAdmin):
    list_display = ("id", "channel", "to_shown", "notification_id", "created_at")
    list_filter = ("channel",)
    search_fields = ("notification_id",)
    fields = ("channel", "to_shown", "body", "notification_id", "created_at")
    readonly_fields = fields

    @admin.display(description="To")
    def to_shown(self, obj) -> str:
        return mask(obj.to, visible=4)
