from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "contexts.identity"
    label = "identity"
    verbose_name = "Identity & KYC"

    def ready(self) -> None:
        # Imported here: the models cannot be imported before the app registry is ready.
        from finfactory.backoffice.approvals import register_action

        from . import checks  # noqa: F401 - registers the system checks
        from .clearance import CLEAR_ACTION, CLEAR_DESCRIPTION, clear_approved

        register_action(CLEAR_ACTION, handler=clear_approved, description=CLEAR_DESCRIPTION)
