"""List a tenant's fraud model versions, or move one to shadow, active or retired.

    python manage.py fraud_model --tenant SLUG --list
    python manage.py fraud_model --tenant SLUG --version 3 --status active --reason "beats v2 in shadow"

Activating retires the active model; shadowing retires the shadow one. Audited as the operator.
"""

from django.core.management.base import BaseCommand, CommandError

from contexts.fraud.model_lifecycle import TRANSITIONS, model_status_set
from contexts.fraud.models import ModelVersion
from finfactory.errors import PlatformError
from finfactory.request_context import acting_as
from finfactory.tenancy.context import UnknownTenant, in_tenant

ACTOR = "operator:cli"


class Command(BaseCommand):
    help = "List fraud model versions with their status and metrics, or change a version's status."

    def create_parser(self, prog_name, subcommand, **kwargs):
        # --version names a model version here, not Django's version: ours replaces the built-in one.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, metavar="SLUG", help="The tenant (slug or schema).")
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--list", action="store_true", help="Print every version, newest first.")
        action.add_argument("--version", type=int, help="The version whose status changes.")
        parser.add_argument("--status", choices=[str(s) for s in TRANSITIONS])
        parser.add_argument("--reason", help="Why (required with --version; recorded in the audit trail).")

    def handle(self, *args, tenant: str, list: bool, version=None, status=None, reason=None, **options):
        if not list and not status:
            raise CommandError("--status is required with --version")
        try:
            with in_tenant(tenant) as found, acting_as(ACTOR):
                if list:
                    self._list(found.slug)
                else:
                    model = model_status_set(version=version, status=status, actor=ACTOR, reason=reason or "")
                    self.stdout.write(self.style.SUCCESS(f"{found.slug}: model v{model.version} is now {model.status}"))
        except UnknownTenant as error:
            raise CommandError(str(error)) from None
        except PlatformError as error:
            raise CommandError(f"{error.detail} ({error.code})") from None

    def _list(self, slug: str) -> None:
        models = ModelVersion.objects.defer("artifact").order_by("-version")
        lines = []
        for model in models:
            m = model.metrics
            lines.append(
                f"  v{model.version:<4} {model.status:<9} trained {model.trained_at:%Y-%m-%d %H:%M} by "
                f"{model.trained_by}, {model.training_rows} rows; ROC AUC {m.get('roc_auc', 0):.4f}, "
                f"AP {m.get('average_precision', 0):.4f}; at {model.threshold:.4f}: precision "
                f"{m.get('precision', 0):.4f}, recall {m.get('recall', 0):.4f}, F1 {m.get('f1', 0):.4f}"
            )
        self.stdout.write(f"{slug}: {len(lines)} model version(s)")
        for line in lines:
            self.stdout.write(line)
