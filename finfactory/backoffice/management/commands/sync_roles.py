"""Create or refresh the back-office role groups in one tenant, or in every tenant."""

from django.core.management.base import BaseCommand, CommandError

from finfactory.backoffice.roles import roles_sync
from finfactory.tenancy.context import UnknownTenant, for_each_tenant, in_tenant


class Command(BaseCommand):
    help = "Create or refresh the Viewer, Operator and Approver groups (also done after every migrate)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", metavar="SLUG", help="Only this tenant (default: every tenant).")

    def handle(self, *args, tenant: str | None = None, **options):
        def sync(found) -> None:
            counts = roles_sync()
            summary = ", ".join(f"{role} {count}" for role, count in counts.items())
            self.stdout.write(f"{found.slug}: {summary} permissions")

        if tenant:
            try:
                with in_tenant(tenant) as found:
                    sync(found)
            except UnknownTenant as exc:
                raise CommandError(str(exc)) from exc
        else:
            for_each_tenant(sync)
