from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate
from django_tenants.utils import get_public_schema_name


def _sync_roles_after_migrate(sender, using="default", **kwargs) -> None:
    # Roles live in tenant schemas only; the public schema holds platform operators.
    if connections[using].schema_name == get_public_schema_name():
        return
    # Imported here: auth models cannot be imported before the app registry is ready.
    from finfactory.backoffice.roles import roles_sync

    roles_sync(using=using)


class BackofficeConfig(AppConfig):
    name = "finfactory.backoffice"
    label = "backoffice"
    verbose_name = "Back office"

    def ready(self) -> None:
        post_migrate.connect(_sync_roles_after_migrate, sender=self, dispatch_uid="backoffice.roles_sync")
