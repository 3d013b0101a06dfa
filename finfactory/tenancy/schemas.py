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
        how = "cloned"
    else:
        logger.warning("tenant.template_missing", template=template, schema=schema_name)
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{schema_name}"')
        how = "migrated"
    migrate_schema(schema_name)
    return how


def tenant_schema_drop(schema_name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{schema_name}" CASCADE')
