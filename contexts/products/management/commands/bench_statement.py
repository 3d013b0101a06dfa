"""Benchmark wallet statements (JSON, CSV, PDF) against a pgbench baseline taken in the same run.

1. pgbench (tpcb-like, scale 1, one client) on a scratch database of the same server.
2. A scratch tenant, a customer and a wallet opened through the product, then --lines postings
   on the wallet's ledger account spread over the last 365 days (cash-ins and transfers out).
3. For each format, `wallet_statement` + its renderer end to end (the whole stream consumed,
   bytes counted): seconds, lines/s and the time in pgbench transactions; then the same again
   under tracemalloc for the peak Python memory (a separate run: tracing slows it down).

The seeding is raw SQL on the scratch tenant's ledger tables (as bench_ledger's): benchmark
seeding of a schema that exists only for this run, because a hundred thousand postings through
the ledger's write path would take minutes. The rows follow the ledger's rules (balanced
entries, gap-free sequences, balance_after, the account's balance) without hashes. Nothing else
in products touches ledger tables. Everything is dropped at the end (unless --keep).
"""

from __future__ import annotations

import time
import tracemalloc
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from contexts.identity import api as identity_api
from contexts.ledger import api as ledger_api
from contexts.products import api as products_api
from contexts.products.statements import pdf_page_count, render_csv, render_json, render_pdf, wallet_statement
from contexts.products.workflows import wallet_account
from contexts.wallets import api as wallets_api
from finfactory.benchmarking import PgbenchMissing, pgbench_run
from finfactory.platform.services import tenant_provision
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant
from finfactory.tenancy.models import Tenant
from finfactory.tenancy.schemas import tenant_schema_drop

TARGET_SECONDS, TARGET_LINES = 10.0, 100_000
PERIOD_DAYS = 365
FORMATS = ("json", "csv", "pdf")
TENANT_NAME = "Statement Benchmark Pay"


class Command(BaseCommand):
    help = "Wallet statement throughput and memory per format against a pgbench baseline taken in the same run."

    def add_arguments(self, parser):
        parser.add_argument("--lines", type=int, default=TARGET_LINES, help="Statement lines to seed and render.")
        parser.add_argument("--formats", default=",".join(FORMATS), help="Comma-separated: json,csv,pdf.")
        parser.add_argument("--pgbench-transactions", type=int, default=2000)
        parser.add_argument("--no-memory", action="store_true", help="Skip the tracemalloc runs.")
        parser.add_argument("--keep", action="store_true", help="Keep the scratch tenant and database.")

    def handle(self, *args, **options):
        lines, formats = options["lines"], [f.strip() for f in options["formats"].split(",") if f.strip()]
        if lines < 1 or not formats or set(formats) - set(FORMATS):
            raise CommandError(f"need --lines >= 1 and --formats among {','.join(FORMATS)}")
        run = uuid.uuid4().hex[:8]
        try:
            baseline = pgbench_run(
                run=run, scale=1, clients=1, transactions=options["pgbench_transactions"], keep=options["keep"]
            )
        except PgbenchMissing as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(baseline.describe())
        with acting_as("system:bench"):
            tenant = tenant_provision(slug=f"bench-stmt-{run}", name=TENANT_NAME).tenant
        try:
            with acting_as("system:bench"), in_tenant(tenant):
                self._measure(run, lines, formats, baseline, memory=not options["no_memory"])
        finally:
            if not options["keep"]:
                connection.set_schema_to_public()
                tenant_schema_drop(tenant.schema_name)
                Tenant.objects.filter(pk=tenant.pk).delete()

    def _measure(self, run, lines, formats, baseline, *, memory: bool) -> None:
        customer = identity_api.customer_create(first_name="Bench", last_name="Statement", email=f"{run}@example.org")
        wallet = products_api.wallet_open(customer_id=customer.id, currency="PHP")
        zone = ZoneInfo(wallets_api.tiers_get().schedule.time_zone)
        date_to = timezone.now().astimezone(zone).date()
        date_from = date_to - timedelta(days=PERIOD_DAYS - 1)
        started = time.perf_counter()
        self._seed(run, wallet.id, lines, datetime.combine(date_from, datetime.min.time(), tzinfo=zone))
        self.stdout.write(
            f"seeded {lines:,} statement lines ({2 * lines:,} postings) in {time.perf_counter() - started:.1f} s"
        )
        self.stdout.write(
            f"statement of {lines:,} lines over {PERIOD_DAYS} days ({zone.key}); target: 100k lines < 10 s per format"
        )
        for name in formats:
            seconds, size = self._render(name, wallet.id, date_from, date_to)
            peak = self._render_traced(name, wallet.id, date_from, date_to) if memory else None
            pages = f", {pdf_page_count(lines):,} pages" if name == "pdf" else ""
            if lines >= TARGET_LINES:
                verdict = "target met" if seconds < TARGET_SECONDS * lines / TARGET_LINES else "TARGET MISSED"
            else:  # fixed costs weigh more in a small run: this overestimates
                verdict = f"{seconds * TARGET_LINES / lines:.1f} s for 100k lines at this rate"
            self.stdout.write(
                f"  {name}: {lines:,} lines in {seconds:.2f} s ({lines / seconds:,.0f} lines/s, the time of "
                f"{seconds * baseline.tps:,.0f} pgbench transactions), {size:,} bytes{pages}, peak memory "
                f"{'not measured' if peak is None else f'{peak / 2**20:.1f} MiB'}; {verdict}"
            )

    def _render(self, name, wallet_id, date_from, date_to) -> tuple[float, int]:
        started = time.perf_counter()
        statement = wallet_statement(wallet_id=wallet_id, date_from=date_from, date_to=date_to)
        if name == "json":
            chunks = render_json(statement)
        elif name == "csv":
            chunks = render_csv(statement)
        else:
            chunks = render_pdf(statement, tenant_name=TENANT_NAME)
        size = sum(len(chunk) for chunk in chunks)
        return time.perf_counter() - started, size

    def _render_traced(self, name, wallet_id, date_from, date_to) -> int:
        """Peak Python heap (tracemalloc) of one rendering, above what was allocated before it."""
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            self._render(name, wallet_id, date_from, date_to)
            return tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()

    def _seed(self, run: str, wallet_id: str, lines: int, start: datetime) -> None:
        account = wallet_account(wallet_id)
        ledger_api.account_set_limits(account_id=account, overdraft_limit=0, max_balance=None)
        float_account = ledger_api.system_account(code="float", currency="PHP").id
        step = max((timezone.now() - start).total_seconds() - 2, 1) / lines
        with connection.cursor() as cursor:
            cursor.execute(
                _SEED,
                {"n": lines, "run": run, "wallet": account, "float": float_account, "start": start, "step": step},
            )
            cursor.execute("ANALYZE ledger_posting; ANALYZE ledger_journalentry; ANALYZE ledger_account")


# Entry g (1..n): odd → a cash-in (float debit, wallet credit of 1000-1999), even → a transfer out
# (wallet debit of 500-999, float credit): the wallet never goes below zero. References look like
# the product's (`cin_…:post`, `trf_…:post`: 26 characters after the prefix) so types resolve.
_SEED = """
WITH accounts AS (
    SELECT (SELECT id FROM ledger_account WHERE public_id = %(wallet)s) AS wallet,
           (SELECT id FROM ledger_account WHERE public_id = %(float)s) AS float
), entries AS (
    INSERT INTO ledger_journalentry (public_id, external_ref, request_digest, kind, description, metadata,
                                     effective_at, posted_at, hash)
    SELECT 'jrn_' || substr(md5(%(run)s || g), 1, 26),
           CASE WHEN g %% 2 = 1 THEN 'cin_' ELSE 'trf_' END || %(run)s || lpad(g::text, 18, '0') || ':post',
           '', CASE WHEN g %% 2 = 1 THEN 'standard' ELSE 'transfer' END,
           CASE WHEN g %% 2 = 1 THEN 'Cash-in at agent (seeded)' ELSE 'Transfer to a friend (seeded)' END, '{}',
           %(start)s::timestamptz + make_interval(secs => g * %(step)s),
           %(start)s::timestamptz + make_interval(secs => g * %(step)s), ''
      FROM generate_series(1, %(n)s) AS g
    RETURNING id, external_ref, posted_at
), lines AS (
    SELECT id AS entry_id, posted_at, g,
           CASE WHEN g %% 2 = 1 THEN 1000 + g %% 1000 ELSE 500 + g %% 500 END AS amount,
           CASE WHEN g %% 2 = 1 THEN 1 ELSE -1 END AS sign
      FROM (SELECT id, posted_at, right(split_part(external_ref, ':', 1), 18)::bigint AS g FROM entries) numbered
), placed AS (
    SELECT l.entry_id, CASE WHEN l.sign = 1 THEN 2 ELSE 1 END AS line, a.id AS account_id,
           CASE WHEN l.sign = 1 THEN 'C' ELSE 'D' END AS direction, l.amount, l.posted_at,
           a.last_sequence + row_number() OVER (ORDER BY l.g) AS sequence,
           a.posted + sum(l.sign * l.amount) OVER (ORDER BY l.g) AS balance_after
      FROM lines l, accounts x JOIN ledger_account a ON a.id = x.wallet
    UNION ALL
    SELECT l.entry_id, CASE WHEN l.sign = 1 THEN 1 ELSE 2 END, a.id,
           CASE WHEN l.sign = 1 THEN 'D' ELSE 'C' END, l.amount, l.posted_at,
           a.last_sequence + row_number() OVER (ORDER BY l.g),
           a.posted + sum(l.sign * l.amount) OVER (ORDER BY l.g)
      FROM lines l, accounts x JOIN ledger_account a ON a.id = x.float
), inserted AS (
    INSERT INTO ledger_posting (entry_id, line, account_id, direction, amount, currency, sequence, balance_after,
                                hash, posted_at)
    SELECT entry_id, line, account_id, direction, amount, 'PHP', sequence, balance_after, '', posted_at FROM placed
    RETURNING 1
)
UPDATE ledger_account a SET posted = t.balance_after, last_sequence = t.sequence
  FROM (SELECT DISTINCT ON (account_id) account_id, balance_after, sequence
          FROM placed ORDER BY account_id, sequence DESC) t
 WHERE a.id = t.account_id
"""
