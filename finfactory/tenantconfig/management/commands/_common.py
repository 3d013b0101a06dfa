"""What the config_* commands share: where a change goes, and how a refusal reads."""

import json
from contextlib import contextmanager

from django.core.management.base import CommandError

from finfactory.errors import InvalidInput
from finfactory.tenancy.context import UnknownTenant, in_public_schema, in_tenant


def add_scope_arguments(parser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--tenant", metavar="SLUG", help="A tenant's value (its schema).")
    where.add_argument("--global", dest="global_", action="store_true", help="The global value (every tenant).")
    parser.add_argument("--reason", required=True, help="Why (recorded in the audit trail).")


@contextmanager
def in_scope(options):
    """Run the block where the change belongs; yields (scope, a label for messages)."""
    try:
        if options["global_"]:
            with in_public_schema():
                yield "global", "globally"
        else:
            with in_tenant(options["tenant"]) as tenant:
                yield "tenant", f"for tenant {tenant.slug}"
    except UnknownTenant as exc:
        raise CommandError(str(exc)) from exc
    except InvalidInput as exc:
        fields = "; ".join(f"{error.field}: {error.message}" for error in exc.errors)
        raise CommandError(f"refused ({exc.code}): {fields or exc.detail}") from exc


def as_json(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
