"""`manage.py chaos_bank`: the bank workload under faults (contexts/products/chaos.py says what it
does and checks). Exits non-zero if any check fails."""

import dataclasses
import json
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from contexts.products.chaos import ChaosOptions, chaos_bank


class Command(BaseCommand):
    help = "Random transfers over HTTP with timeouts and retries while backends and workers are killed; then checks."

    def add_arguments(self, parser):
        defaults = ChaosOptions()
        for option in dataclasses.fields(ChaosOptions):
            flag = "--" + option.name.replace("_", "-")
            default = getattr(defaults, option.name)
            if isinstance(default, bool):
                parser.add_argument(flag, action="store_true")
            else:
                parser.add_argument(flag, type=type(default), default=default)
        parser.add_argument("--json", dest="json_out", metavar="FILE", help="Also write the report as JSON.")
        parser.add_argument("--logs", metavar="DIR", help="Keep the server's and worker's logs here.")

    def handle(self, *args, **options):
        chosen = ChaosOptions(**{f.name: options[f.name] for f in dataclasses.fields(ChaosOptions)})
        if chosen.wallets < 2 or chosen.clients < 1 or chosen.seconds <= 0:
            raise CommandError("need --wallets >= 2, --clients >= 1 and --seconds > 0")
        logs = Path(options["logs"] or tempfile.mkdtemp(prefix="chaos-bank-"))
        logs.mkdir(parents=True, exist_ok=True)
        report = chaos_bank(chosen, log_dir=logs, say=self.stdout.write)
        body = {**dataclasses.asdict(report), "ok": report.ok}
        self.stdout.write(
            f"acknowledged {report.acknowledged}, refused {json.dumps(report.refused, sort_keys=True)}, "
            f"unresolved {report.unresolved}; statuses {json.dumps(report.statuses, sort_keys=True)}; "
            f"{report.events_delivered} events delivered, outbox drained in {report.drain_seconds:.1f} s"
        )
        if options["json_out"]:
            Path(options["json_out"]).write_text(json.dumps(body, indent=2))
        for problem in report.problems:
            self.stdout.write(f"  ✗ {problem}")
        if not report.ok:
            raise CommandError(f"{len(report.problems)} check(s) failed; logs in {logs}")
        self.stdout.write(f"all checks passed (money conserved, every acknowledged transfer once, ledger_verify and "
                          f"audit_verify clean, outbox drained); logs in {logs}")  # fmt: skip
