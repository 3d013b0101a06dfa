from django.core.management.base import BaseCommand, CommandError

from finfactory.request_context import acting_as
from finfactory.tenancy.context import UnknownTenant, tenant_get


class TenantStatusCommand(BaseCommand):
    action = None  # a tenancy service taking tenant=

    def add_arguments(self, parser):
        parser.add_argument("slug")

    def handle(self, *args, **options):
        try:
            tenant = tenant_get(options["slug"])
        except UnknownTenant as exc:
            raise CommandError(str(exc)) from exc
        with acting_as("system:manage.py"):
            tenant = type(self).action(tenant=tenant)
        self.stdout.write(f"{tenant.slug}: {tenant.status}")
