import json

from django.core.management.base import BaseCommand, CommandError

from finfactory.request_context import acting_as, current_actor
from finfactory.tenantconfig.management.commands._common import add_scope_arguments, as_json, in_scope
from finfactory.tenantconfig.services import config_set


class Command(BaseCommand):
    help = "Set a configuration value for one tenant (--tenant SLUG) or for every tenant (--global)."

    def add_arguments(self, parser):
        parser.add_argument("key")
        parser.add_argument("value_json", metavar="VALUE_JSON", help='JSON: true, 42, "text", {"a": 1}')
        add_scope_arguments(parser)

    def handle(self, *args, key: str, value_json: str, reason: str, **options):
        try:
            value = json.loads(value_json)
        except ValueError as exc:
            hint = "a string needs double quotes: '\"text\"'"
            raise CommandError(f"VALUE_JSON is not valid JSON ({hint}): {exc}") from exc
        with in_scope(options) as (scope, where), acting_as(current_actor() or "system:manage.py"):
            entry = config_set(key=key, value=value, reason=reason, scope=scope)
        self.stdout.write(f"{key} = {as_json(entry.value)} {where} (version {entry.version})")
