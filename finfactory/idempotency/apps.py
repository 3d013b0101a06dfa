from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    name = "finfactory.idempotency"
    label = "idempotency"
