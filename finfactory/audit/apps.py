from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "finfactory.audit"
    label = "audit"
