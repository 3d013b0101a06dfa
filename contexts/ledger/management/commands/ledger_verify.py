"""Prove each tenant's ledger: hash chain, balanced entries, balances and trial balance."""

from django.core.management.base import BaseCommand, CommandError

from contexts.ledger.verify import LedgerReport, ledger_verify
from finfactory.money import format_minor
from finfactory.tenancy.context import UnknownTenant, for_each_tenant, in_tenant


class Command(BaseCommand):
    help = (
        "Recompute the ledger's hash chain, every account balance (from its postings) and the trial "
        "balance per currency; print a report and exit non-zero on any discrepancy."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", metavar="SLUG", help="Only this tenant (default: every tenant).")

    def handle(self, *args, tenant: str | None = None, **options):
        failed: list[str] = []

        def check(found) -> LedgerReport:
            label = f"{found.slug} [{found.schema_name}]"
            report = ledger_verify()
            trial = ", ".join(
                f"{currency} {format_minor(total, currency)}"
                for currency, total in sorted(report.trial_balance.items())
            )
            self.stdout.write(
                f"{label}: {report.entries_checked} entries ({report.entries_sealed} sealed, "
                f"head #{report.chain_head_seq}, {report.awaiting_seal} awaiting their seal), "
                f"{report.accounts_checked} accounts, "
                f"{report.postings_checked} postings ({report.links_checked} chain links); "
                f"trial balance {trial or 'empty'} — {'OK' if report.ok else 'DISCREPANCIES'}"
            )
            for problem in report.problems:
                self.stdout.write(f"  ✗ {problem}")
            if not report.ok:
                failed.append(label)
            return report

        if tenant:
            try:
                with in_tenant(tenant) as found:
                    check(found)
            except UnknownTenant as exc:
                raise CommandError(str(exc)) from exc
        else:
            for_each_tenant(check)
        if failed:
            raise CommandError(f"ledger discrepancies in: {', '.join(failed)}")
