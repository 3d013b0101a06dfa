from django.core.management import call_command
from django.core.management.base import BaseCommand

from finfactory.tenancy.schemas import template_schema_migrate, template_schema_name


class Command(BaseCommand):
    help = (
        "Migrate everything: the public schema, every tenant schema, and the template schema new "
        "tenants are cloned from. Run on every deploy."
    )

    def handle(self, *args, **options):
        verbosity = options["verbosity"]
        call_command("migrate_schemas", interactive=False, verbosity=max(0, verbosity - 1))
        created = template_schema_migrate()
        if verbosity:
            state = "created and migrated" if created else "migrated"
            self.stdout.write(f"Public schema, tenant schemas and template schema {template_schema_name()!r} {state}.")
