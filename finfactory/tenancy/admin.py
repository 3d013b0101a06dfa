from django.contrib import admin
from django_tenants.admin import TenantAdminMixin
from django_tenants.utils import get_public_schema_name

from finfactory.tenancy.models import Domain, Tenant


class PublicSchemaOnlyAdmin(admin.ModelAdmin):
    """Tenants are managed by platform operators in the public admin only."""

    def has_module_permission(self, request):
        return request.tenant.schema_name == get_public_schema_name() and super().has_module_permission(request)


@admin.register(Tenant)
class TenantAdmin(TenantAdminMixin, PublicSchemaOnlyAdmin):
    list_display = ("slug", "name", "environment", "status", "schema_name", "created_at")
    list_filter = ("environment", "status")
    search_fields = ("slug", "name")
    readonly_fields = ("schema_name", "environment", "created_at")


@admin.register(Domain)
class DomainAdmin(PublicSchemaOnlyAdmin):
    list_display = ("domain", "tenant", "is_primary")
    search_fields = ("domain",)
