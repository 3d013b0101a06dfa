"""Train a new version of a tenant's fraud model from its labelled movements.

    python manage.py fraud_train --tenant SLUG [--synthetic] [--status candidate|shadow|active] [--seed 7]

Prints the held-out metrics; exits non-zero, having stored nothing, when there are too few labels.
A new model is a candidate unless --status says otherwise: shadow scores beside the active
model without deciding anything, which is the way to compare before activating.
"""

from django.core.management.base import BaseCommand, CommandError

from contexts.fraud.training import TRAINABLE_STATUSES, model_train
from finfactory.errors import PlatformError
from finfactory.request_context import acting_as
from finfactory.tenancy.context import UnknownTenant, in_tenant

ACTOR = "operator:cli"


class Command(BaseCommand):
    help = "Train, evaluate and store a new fraud model version of one tenant."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, metavar="SLUG", help="The tenant (slug or schema).")
        parser.add_argument("--synthetic", action="store_true", help="Also train on synthetic movements.")
        parser.add_argument("--status", choices=[str(s) for s in TRAINABLE_STATUSES], default="candidate")
        parser.add_argument("--seed", type=int, default=7, help="Split and fit seed (default 7).")

    def handle(self, *args, tenant: str, synthetic: bool, status: str, seed: int, **options):
        try:
            with in_tenant(tenant) as found, acting_as(ACTOR):
                model = model_train(include_synthetic=synthetic, status=status, actor=ACTOR, seed=seed)
        except UnknownTenant as error:
            raise CommandError(str(error)) from None
        except PlatformError as error:
            raise CommandError(f"{error.detail} ({error.code})") from None
        m = model.metrics
        self.stdout.write(self.style.SUCCESS(f"{found.slug}: model v{model.version} trained, status {model.status}"))
        self.stdout.write(
            f"  {model.training_rows} labelled movements: {m['n_train']} to train ({m['positives_train']} fraudulent), "
            f"{m['n_test']} held out ({m['positives_test']} fraudulent); fitted in {m['training_seconds']:.2f} s"
        )
        self.stdout.write(f"  held out: ROC AUC {m['roc_auc']:.4f}, average precision {m['average_precision']:.4f}")
        self.stdout.write(
            f"  at threshold {model.threshold:.4f}: precision {m['precision']:.4f}, recall {m['recall']:.4f}, "
            f"F1 {m['f1']:.4f}"
        )
