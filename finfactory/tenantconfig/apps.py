from django.apps import AppConfig


class TenantConfigConfig(AppConfig):
    name = "finfactory.tenantconfig"
    label = "tenantconfig"
    verbose_name = "Configuration and feature flags"
