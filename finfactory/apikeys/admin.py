from django.contrib import admin, messages
from django_tenants.utils import get_public_schema_name

from finfactory.apikeys.models import ApiKey
from finfactory.apikeys.services import api_key_revoke, api_key_rotate


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Platform operators manage keys in the public admin. A new key is shown once, here."""

    list_display = ("prefix", "name", "kind", "tenant", "mode", "created_at", "expires_at", "revoked_at")
    list_filter = ("kind", "mode")
    search_fields = ("prefix", "name", "tenant__slug", "public_id")
    readonly_fields = (
        "public_id",
        "kind",
        "tenant",
        "mode",
        "prefix",
        "digest",
        "scopes",
        "created_at",
        "created_by",
        "expires_at",
        "revoked_at",
        "revoked_by",
        "replaced_by",
        "name",
    )
    actions = ["revoke_keys", "rotate_keys"]

    def has_module_permission(self, request):
        return request.tenant.schema_name == get_public_schema_name() and super().has_module_permission(request)

    def has_add_permission(self, request):
        return False  # keys are issued with `manage.py apikey_create` or the API, which show the key once

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the record stays for the audit trail

    @admin.action(description="Revoke selected keys")
    def revoke_keys(self, request, queryset):
        for key in queryset:
            api_key_revoke(key=key, actor=f"user:{request.user.get_username()}")
        self.message_user(request, f"Revoked {queryset.count()} key(s).", messages.SUCCESS)

    @admin.action(description="Rotate selected keys (old key valid for the grace period)")
    def rotate_keys(self, request, queryset):
        for key in queryset:
            issued = api_key_rotate(key=key, actor=f"user:{request.user.get_username()}")
            self.message_user(
                request,
                f"New key for {key.name}: {issued.secret} — copy it now, it is not shown again.",
                messages.WARNING,
            )
