from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "finfactory.tenancy"
    label = "tenancy"
    verbose_name = "Tenancy"
