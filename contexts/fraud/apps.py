from django.apps import AppConfig


class FraudConfig(AppConfig):
    name = "contexts.fraud"
    label = "fraud"
    verbose_name = "Fraud"

    def ready(self) -> None:
        # Every process that may approve a request (web and worker) must know the action.
        from .review import register

        register()
