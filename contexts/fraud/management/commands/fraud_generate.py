"""Write a labelled synthetic fraud history into a sandbox tenant, for training its first model.

    python manage.py fraud_generate --tenant SLUG --movements 10000 [--fraud-rate 0.05] [--seed 7]

Refused where FRAUD_SYNTHETIC_DATA_ALLOWED is off (production, unless opted in). Every row
written is marked synthetic; fraud_train leaves such rows out unless told --synthetic.
"""

from django.core.management.base import BaseCommand, CommandError

from contexts.fraud.synthetic import synthetic_history_generate
from finfactory.errors import PlatformError
from finfactory.request_context import acting_as
from finfactory.tenancy.context import UnknownTenant, in_tenant


class Command(BaseCommand):
    help = "Write synthetic customers, wallets and labelled scored movements (about --fraud-rate fraudulent)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, metavar="SLUG", help="The sandbox tenant (slug or schema).")
        parser.add_argument("--movements", required=True, type=int, help="How many movements to write.")
        parser.add_argument("--fraud-rate", type=float, default=0.05, help="Fraudulent share (default 0.05).")
        parser.add_argument("--seed", type=int, default=7, help="Same seed, same labels and features (default 7).")
        parser.add_argument("--customers", type=int, help="Default: one per 40 movements, at least 20.")

    def handle(self, *args, tenant: str, movements: int, fraud_rate: float, seed: int, customers=None, **options):
        try:
            with in_tenant(tenant) as found, acting_as("operator:cli"):
                counts = synthetic_history_generate(
                    movements=movements, fraud_rate=fraud_rate, seed=seed, customers=customers
                )
        except UnknownTenant as error:
            raise CommandError(str(error)) from None
        except PlatformError as error:
            raise CommandError(f"{error.detail} ({error.code})") from None
        share = counts["fraudulent"] / counts["movements"]
        self.stdout.write(
            self.style.SUCCESS(
                f"{found.slug}: wrote {counts['movements']} synthetic movements, {counts['fraudulent']} fraudulent "
                f"({share:.1%}), for {counts['customers']} customers and {counts['wallets']} wallets (seed {seed})"
            )
        )
