from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "contexts.ledger"
    label = "ledger"
    verbose_name = "Ledger"
