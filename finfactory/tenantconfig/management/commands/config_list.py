from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django_tenants.utils import get_public_schema_name

from finfactory.tenancy.context import UnknownTenant, in_public_schema, in_tenant
from finfactory.tenantconfig.caching import stored_values
from finfactory.tenantconfig.management.commands._common import as_json
from finfactory.tenantconfig.registry import config_definitions
from finfactory.tenantconfig.services import config_get

_WIDTH = 60
_UNSET = "-"


def _cell(value) -> str:
    text = as_json(value)
    return text if len(text) <= _WIDTH else text[: _WIDTH - 1] + "…"


class Command(BaseCommand):
    help = "Every registered configuration key: kind, default, global value, the tenant's value, resolved value."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", metavar="SLUG", help="Also show this tenant's values and resolve for it.")

    def handle(self, *args, tenant: str | None = None, **options):
        try:
            scope = in_tenant(tenant) if tenant else in_public_schema()
            with scope:
                rows, orphans = self._rows(with_tenant=bool(tenant))
        except UnknownTenant as exc:
            raise CommandError(str(exc)) from exc
        header = ["KEY", "KIND", "DEFAULT", "GLOBAL", *(["TENANT"] if tenant else []), "RESOLVED"]
        table = [header, *rows]
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        for row in table:
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        for key, where in orphans:
            self.stdout.write(f"stored but not registered (ignored): {key} ({where})")

    def _rows(self, *, with_tenant: bool):
        public = get_public_schema_name()
        global_values = stored_values(public)
        tenant_values = stored_values(connection.schema_name) if with_tenant else {}
        rows = []
        registered = set()
        for definition in config_definitions():
            registered.add(definition.key)
            row = [definition.key, definition.kind, _cell(definition.default)]
            row.append(_cell(global_values[definition.key]) if definition.key in global_values else _UNSET)
            if with_tenant:
                row.append(_cell(tenant_values[definition.key]) if definition.key in tenant_values else _UNSET)
            row.append(_cell(config_get(definition.key)))
            rows.append(row)
        orphans = [(key, "global") for key in global_values if key not in registered]
        orphans += [(key, "tenant") for key in tenant_values if key not in registered]
        return rows, orphans
