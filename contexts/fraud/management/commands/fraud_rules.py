"""List a tenant's fraud rules, or install the default rule pack (contexts/fraud/default_rules.py)."""

from django.core.management.base import BaseCommand, CommandError

from contexts.fraud import services
from contexts.fraud.selectors import rules_list
from finfactory.request_context import acting_as
from finfactory.tenancy.context import UnknownTenant, in_tenant


class Command(BaseCommand):
    help = "List a tenant's fraud rules (every version), or install the default rule pack."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", metavar="SLUG", required=True)
        parser.add_argument("--install-defaults", action="store_true", help="Add the default rules it lacks.")

    def handle(self, *args, tenant: str, install_defaults: bool, **options):
        try:
            with in_tenant(tenant), acting_as("operator:cli"):
                if install_defaults:
                    added = services.default_rules_install(reason="default rule pack installed")
                    self.stdout.write(f"installed {len(added)} default rules")
                for rule in rules_list():
                    period = f"{rule.effective_from:%Y-%m-%d %H:%M} → {rule.effective_to or 'now'}"
                    self.stdout.write(
                        f"{rule.code} v{rule.version} [{rule.kind}] {rule.action} +{rule.weight}"
                        f"{'' if rule.enabled else ' (disabled)'} {period}: {rule.params}"
                    )
        except UnknownTenant as exc:
            raise CommandError(str(exc)) from exc
