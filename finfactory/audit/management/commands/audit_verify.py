"""Check the audit chain of one tenant, or of the public schema and every tenant."""

from django.core.management.base import BaseCommand, CommandError

from finfactory.audit.verify import ChainReport, audit_chain_verify
from finfactory.tenancy.context import UnknownTenant, for_each_tenant, in_public_schema, in_tenant


class Command(BaseCommand):
    help = "Verify the hash chain of the audit trail; exits non-zero if any chain is broken."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", metavar="SLUG", help="Only this tenant (default: public and all tenants).")

    def handle(self, *args, tenant: str | None = None, **options):
        broken: list[str] = []

        def check(label: str) -> ChainReport:
            report = audit_chain_verify()
            if report.ok:
                self.stdout.write(f"{label}: ok ({report.records_checked} records)")
            else:
                broken.append(label)
                self.stdout.write(
                    f"{label}: BROKEN at {report.first_broken_public_id} (id {report.first_broken_id}): "
                    f"{report.problem}"
                )
            return report

        if tenant:
            try:
                with in_tenant(tenant) as found:
                    check(f"{found.slug} [{found.schema_name}]")
            except UnknownTenant as exc:
                raise CommandError(str(exc)) from exc
        else:
            with in_public_schema():
                check("public")
            for_each_tenant(lambda found: check(f"{found.slug} [{found.schema_name}]"))

        if broken:
            raise CommandError(f"broken audit chain in: {', '.join(broken)}")
