"""Creating tenant schemas: clone the migrated template schema, then apply whatever it lacks."""

import structlog
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django_tenants.clone import CloneSchema
from django_tenants.utils import schema_exists

logger = structlog.get_logger(__name__)


def template_schema_name() -> str:
    return settings.TENANT_BASE_SCHEMA


def migrate_schema(schema_name: str) -> None:
    call_command("migrate_schemas", schema_name=schema_name, tenant=True, interactive=False, verbosity=0)
    connection.set_schema_to_public()


def template_schema_migrate() -> bool:
    """Create the template schema if missing and bring it to the latest migrations.

    Returns True if the schema was created. Run on every deploy (`manage.py migrate_platform`).
    """
    name = template_schema_name()
    created = not schema_exists(name)
    if created:
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{name}"')
    migrate_schema(name)
    return created


def tenant_schema_create(schema_name: str) -> str:
    """Create a tenant's schema in the current transaction; returns how ('cloned' or 'migrated').

    Cloning copies the template's tables, sequences, functions, triggers and rows (migration
    history, content types, permissions, role groups). The migrate that follows applies any
    migration the template lacks, so a stale template can never leave a tenant behind.
    """
    connection.set_schema_to_public()
    template = template_schema_name()
    if schema_exists(template):
        CloneSchema().clone_schema(template, schema_name, "DATA")
        _restore_names(template, schema_name)
        how = "cloned"
    else:
        logger.warning("tenant.template_missing", template=template, schema=schema_name)
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{schema_name}"')
        how = "migrated"
    migrate_schema(schema_name)
    return how


# Constraints and indexes of `schema`, keyed by table and definition (schema name taken out), so
# a clone's objects can be paired with the template's.
_CONSTRAINTS = """
SELECT c.relname, regexp_replace(pg_get_constraintdef(k.oid), %(pattern)s, '', 'g'), k.conname
  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = %(schema)s AND k.contype IN ('p', 'u', 'f', 'c', 'x')
 ORDER BY 1, 2, 3
"""
_INDEXES = """
SELECT i.tablename,
       regexp_replace(regexp_replace(i.indexdef, %(pattern)s, '', 'g'), '^(CREATE (UNIQUE )?INDEX) \\S+', '\\1'),
       i.indexname
  FROM pg_indexes i
 WHERE i.schemaname = %(schema)s
   AND NOT EXISTS (SELECT 1 FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
                    WHERE n.nspname = i.schemaname AND k.conname = i.indexname)
 ORDER BY 1, 2, 3
"""


def _objects(cursor, query: str, schema: str) -> dict[tuple[str, str], list[str]]:
    cursor.execute(query, {"schema": schema, "pattern": f'\\m{schema}\\.|"{schema}"\\.'})
    found: dict[tuple[str, str], list[str]] = {}
    for table, definition, name in cursor.fetchall():
        found.setdefault((table, definition), []).append(name)
    return found


def _restore_names(template: str, schema: str) -> None:
    """Give the clone's constraints and indexes the template's names.

    The clone creates tables with `LIKE … INCLUDING ALL`, which names unique constraints and
    indexes after their columns; a later migration that alters or drops one by its name would then
    fail on every cloned tenant. Objects are paired by table and definition.
    """
    with connection.cursor() as cursor:
        for query, statement in (
            (_CONSTRAINTS, 'ALTER TABLE "{schema}"."{table}" RENAME CONSTRAINT "{old}" TO "{new}"'),
            (_INDEXES, 'ALTER INDEX "{schema}"."{old}" RENAME TO "{new}"'),
        ):
            wanted, present = _objects(cursor, query, template), _objects(cursor, query, schema)
            renames = [
                (table, old, new)
                for (table, definition), names in wanted.items()
                for old, new in zip(present.get((table, definition), []), names, strict=False)
                if old != new
            ]
            # Through temporary names, so that no rename collides with a name not yet moved away.
            for step, (table, old, _new) in enumerate(renames):
                cursor.execute(statement.format(schema=schema, table=table, old=old, new=f"ff_rename_{step}"))
            for step, (table, _old, new) in enumerate(renames):
                cursor.execute(statement.format(schema=schema, table=table, old=f"ff_rename_{step}", new=new))


def tenant_schema_drop(schema_name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{schema_name}" CASCADE')
