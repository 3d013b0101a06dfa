from django.apps import AppConfig


class WalletsConfig(AppConfig):
    name = "contexts.wallets"
    label = "wallets"
    verbose_name = "Wallets"

    def ready(self) -> None:
        # Every process that may approve a request (web and worker) must know the action.
        from .approvals import register

        register()
