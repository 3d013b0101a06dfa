from django.core.management.base import BaseCommand

from finfactory.request_context import acting_as, current_actor
from finfactory.tenantconfig.management.commands._common import add_scope_arguments, as_json, in_scope
from finfactory.tenantconfig.services import config_unset


class Command(BaseCommand):
    help = "Unset a configuration value of one tenant (--tenant SLUG) or the global one (--global)."

    def add_arguments(self, parser):
        parser.add_argument("key")
        add_scope_arguments(parser)

    def handle(self, *args, key: str, reason: str, **options):
        with in_scope(options) as (scope, where), acting_as(current_actor() or "system:manage.py"):
            removed = config_unset(key=key, reason=reason, scope=scope)
        if removed is None:
            self.stdout.write(f"{key} was not set {where}: nothing to do")
        else:
            self.stdout.write(f"{key} unset {where} (was {as_json(removed.value)}, version {removed.version})")
