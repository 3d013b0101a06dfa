"""Benchmark the transactions list of one wallet with --rows transactions (1,000,000 by default).

1. pgbench's select-only on a scratch database, one client: the latency of one indexed read on
   this server now (the baseline).
2. A scratch tenant; the rows are bulk-written into the products transactions table for one
   wallet (benchmark seeding of a scratch schema, by SQL), then ANALYZE.
3. Timed through contexts.products.api.transactions_list, 20 per page: the first page, a page
   deep in the history (a cursor from half-way), a type filter and created-before filters —
   each p50 / p99 over --samples calls. The cost must not grow with the wallet's history: every
   page is one index range scan.
"""

from __future__ import annotations

import statistics
import time
import uuid

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from contexts.products import api
from finfactory.benchmarking import PgbenchMissing, percentile, pgbench_run
from finfactory.pages import time_cursor_encode
from finfactory.platform.services import tenant_provision
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant
from finfactory.tenancy.models import Tenant
from finfactory.tenancy.schemas import tenant_schema_drop

_SEED = """
INSERT INTO products_transaction (public_id, wallet_id, entry_id, line, type, direction, amount, currency,
                                  balance_after, reference_id, created_at)
SELECT 'txn_' || lpad(to_hex(g), 26, '0'), %(wallet)s, 'jrn_' || lpad(to_hex(g), 26, '0'), 1,
       CASE WHEN g %% 3 = 0 THEN 'transfer_out' ELSE 'cash_in' END,
       CASE WHEN g %% 3 = 0 THEN 'debit' ELSE 'credit' END,
       1 + g %% 500, 'PHP', g, 'cin_' || lpad(to_hex(g), 26, '0'),
       now() - make_interval(secs => %(rows)s - g)
  FROM generate_series(1, %(rows)s) AS g
"""


class Command(BaseCommand):
    help = "Transactions list latency of a wallet with a long history, beside pgbench's select-only latency."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=1_000_000)
        parser.add_argument("--samples", type=int, default=200)
        parser.add_argument("--keep", action="store_true")

    def handle(self, *args, rows: int, samples: int, keep: bool, **options):
        if rows < 100 or samples < 1:
            raise CommandError("need --rows >= 100 and --samples >= 1")
        run = uuid.uuid4().hex[:8]
        try:
            baseline = pgbench_run(run=run, scale=1, clients=1, transactions=max(samples, 1000), select_only=True)
        except PgbenchMissing as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(baseline.describe(" (select-only)"))
        with acting_as("system:bench"):
            tenant = tenant_provision(slug=f"bench-txn-{run}", name="Transactions benchmark").tenant
        try:
            with in_tenant(tenant), acting_as("system:bench"):
                wallet = "wal_" + "0" * 26
                started = time.perf_counter()
                with connection.cursor() as cursor:
                    cursor.execute(_SEED, {"wallet": wallet, "rows": rows})
                    cursor.execute("ANALYZE products_transaction")
                    cursor.execute(
                        "SELECT created_at, id FROM products_transaction ORDER BY id LIMIT 1 OFFSET %s", [rows // 2]
                    )
                    middle_at, middle_id = cursor.fetchone()
                seconds = time.perf_counter() - started
                self.stdout.write(f"seeded {rows:,} transactions of one wallet in {seconds:.1f} s")
                deep = time_cursor_encode(middle_at, middle_id)
                cases = {
                    "first page": {"wallet_id": wallet},
                    "page half-way through the history": {"wallet_id": wallet, "cursor": deep},
                    "type filter (transfer_out)": {"wallet_id": wallet, "type": "transfer_out"},
                    "created_before the middle of the history": {
                        "wallet_id": wallet,
                        "created_before": middle_at.isoformat(),
                    },
                    "created_before the first transaction (an empty page)": {
                        "wallet_id": wallet,
                        "created_before": "2000-01-01T00:00:00Z",
                    },
                }
                for label, kwargs in cases.items():
                    timings = []
                    for _ in range(samples):
                        began = time.perf_counter()
                        page = api.transactions_list(limit=20, **kwargs)
                        timings.append(time.perf_counter() - began)
                    p50, p99 = statistics.median(timings) * 1000, percentile(timings, 0.99) * 1000
                    self.stdout.write(
                        f"transactions list, {label}: {len(page.items)} rows, p50 {p50:.2f} ms, p99 {p99:.2f} ms "
                        f"({p50 / baseline.latency_ms:.1f} x pgbench's select latency)"
                    )
        finally:
            if not keep:
                connection.set_schema_to_public()
                tenant_schema_drop(tenant.schema_name)
                Tenant.objects.filter(pk=tenant.pk).delete()
