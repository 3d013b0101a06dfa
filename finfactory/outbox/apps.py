from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "finfactory.outbox"
    label = "outbox"
    verbose_name = "Outbox and event delivery"
