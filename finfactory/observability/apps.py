from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "finfactory.observability"
    label = "observability"
    verbose_name = "Observability"
