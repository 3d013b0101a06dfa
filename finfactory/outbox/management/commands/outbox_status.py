import json

from django.core.management.base import BaseCommand

from finfactory.outbox.operations import outbox_state
from finfactory.tenancy.context import for_each_tenant


class Command(BaseCommand):
    help = "Per tenant: pending events, due now, oldest pending age, dead letters."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        states = for_each_tenant(lambda tenant: outbox_state())
        if options["json"]:
            self.stdout.write(json.dumps({slug: vars(state) for slug, state in states.items()}))
            return
        self.stdout.write(f"{'TENANT':<40} {'PENDING':>8} {'DUE':>8} {'OLDEST(s)':>10} {'DEAD':>6} {'DELIVERED':>10}")
        for slug, s in states.items():
            oldest = f"{s.oldest_pending_seconds:.1f}" if s.oldest_pending_seconds is not None else "-"
            self.stdout.write(f"{slug:<40} {s.pending:>8} {s.due:>8} {oldest:>10} {s.dead:>6} {s.delivered:>10}")
