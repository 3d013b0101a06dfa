"""Benchmark ledger transfers against pgbench's tpcb-like, measured in the same run.

1. pgbench (tpcb-like) on a scratch database: scale = concurrency, or scale 1 with --hot (every
   transaction then updates the same pgbench_branches row: pgbench's own hot row).
2. A scratch tenant with --accounts funded wallets; --transfers transfers through
   contexts.ledger.api from --concurrency processes (random pairs, or with --hot every transfer
   touching one wallet), then `ledger_verify` on the result.
   The entries are then sealed into the tenant's chain (the beat's job), timed.
3. --seed-postings postings bulk-written into the same tenant's history, then the same transfers
   again: the cost per transfer must not grow with history.

Everything it creates is dropped at the end (unless --keep).
"""

from __future__ import annotations

import multiprocessing
import random
import statistics
import time
import uuid

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections

from contexts.ledger import api
from contexts.ledger.sealing import chain_seal
from contexts.ledger.verify import ledger_verify
from finfactory.benchmarking import PgbenchMissing, percentile, pgbench_run
from finfactory.errors import PlatformError
from finfactory.platform.services import tenant_provision
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant
from finfactory.tenancy.models import Tenant
from finfactory.tenancy.schemas import tenant_schema_drop

FUNDING = 10**12


def _worker(schema, accounts, hot, count, worker, run, barrier, results):
    connections.close_all()
    rng = random.Random(f"{run}-{worker}")  # noqa: S311 - workload shape, not secrets
    latencies, failures = [], {}
    with acting_as("system:bench"), in_tenant(schema):
        api.balance_get(account_id=accounts[0])  # connect before the clock starts
        barrier.wait()
        for index in range(count):
            if hot is not None:
                other = rng.choice(accounts)
                debit, credit = (hot, other) if index % 2 == 0 else (other, hot)
            else:
                debit, credit = rng.sample(accounts, 2)
            started = time.perf_counter()
            try:
                api.transfer(
                    external_ref=f"bench-{run}-{worker}-{index}",
                    debit_account_id=debit,
                    credit_account_id=credit,
                    amount=rng.randint(1, 100),
                    currency="PHP",
                )
            except PlatformError as exc:
                failures[exc.code] = failures.get(exc.code, 0) + 1
            latencies.append(time.perf_counter() - started)
    connections.close_all()
    results.put((latencies, failures))


class Command(BaseCommand):
    help = "Ledger transfers/s and latency against a pgbench tpcb-like baseline taken in the same run."

    def add_arguments(self, parser):
        parser.add_argument("--transfers", type=int, default=20000)
        parser.add_argument("--concurrency", type=int, default=8)
        parser.add_argument("--accounts", type=int, default=1000)
        parser.add_argument("--hot", action="store_true", help="Every transfer touches one hot wallet.")
        parser.add_argument("--seed-postings", type=int, default=1_000_000, help="History to add, then measure again.")
        parser.add_argument("--keep", action="store_true", help="Keep the scratch tenant and database.")

    def handle(self, *args, **options):
        transfers, concurrency = options["transfers"], options["concurrency"]
        accounts_wanted, hot = options["accounts"], options["hot"]
        if transfers < concurrency or concurrency < 1 or accounts_wanted < 2:
            raise CommandError("need --transfers >= --concurrency >= 1 and --accounts >= 2")
        run = uuid.uuid4().hex[:8]
        baseline = self._pgbench(run, transfers, concurrency, hot, keep=options["keep"])
        with acting_as("system:bench"):
            tenant = tenant_provision(slug=f"bench-ledger-{run}", name="Ledger benchmark").tenant
        try:
            accounts, hot_account = self._accounts(tenant, accounts_wanted, hot)
            first = self._transfers(tenant, accounts, hot_account, transfers, concurrency, f"{run}a")
            with in_tenant(tenant):
                started = time.perf_counter()
                sealed = chain_seal()
                sealing = time.perf_counter() - started
                report = ledger_verify()
            self._line("ledger transfers", first, baseline)
            self.stdout.write(
                f"  chain sealing afterwards: {sealed:,} entries in {sealing:.2f} s ({sealed / sealing:,.0f} entries/s)"
            )
            self.stdout.write(
                f"  ledger_verify after the run: {'OK' if report.ok else 'DISCREPANCIES'} "
                f"({report.entries_checked} entries, {report.postings_checked} postings, "
                f"trial balance {report.trial_balance})"
            )
            for problem in report.problems:
                self.stdout.write(f"  ✗ {problem}")
            if options["seed_postings"]:
                started = time.perf_counter()
                seeded = self._seed(tenant, options["seed_postings"])
                self.stdout.write(f"seeded {seeded:,} postings of history in {time.perf_counter() - started:.1f} s")
                second = self._transfers(tenant, accounts, hot_account, transfers, concurrency, f"{run}b")
                self._line(f"ledger transfers after +{seeded:,} postings", second, baseline)
                self.stdout.write(f"  rate with history / rate without: {second['tps'] / first['tps']:.2f}")
            if not report.ok:
                raise CommandError("the ledger did not verify after the benchmark")
        finally:
            if not options["keep"]:
                connection.set_schema_to_public()
                tenant_schema_drop(tenant.schema_name)
                Tenant.objects.filter(pk=tenant.pk).delete()

    # pgbench

    def _pgbench(self, run, transfers, concurrency, hot, *, keep) -> dict:
        try:
            result = pgbench_run(run=run, scale=1 if hot else concurrency, clients=concurrency,
                                 transactions=transfers, keep=keep)  # fmt: skip
        except PgbenchMissing as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(result.describe(" (one hot branch row)" if hot else ""))
        return {"tps": result.tps, "latency_ms": result.latency_ms}

    # ledger

    def _accounts(self, tenant, count, hot) -> tuple[list[str], str | None]:
        with acting_as("system:bench"), in_tenant(tenant):
            float_account = api.system_account(code="float", currency="PHP").id
            accounts = []
            for index in range(count):
                wallet = api.account_open(currency="PHP", type="liability", owner_ref=f"bench:{index}").id
                api.transfer(
                    external_ref=f"fund-{wallet}", debit_account_id=float_account, credit_account_id=wallet,
                    amount=FUNDING, currency="PHP",
                )  # fmt: skip
                accounts.append(wallet)
        hot_account = accounts.pop(0) if hot else None
        return accounts, hot_account

    def _transfers(self, tenant, accounts, hot_account, transfers, concurrency, run) -> dict:
        context = multiprocessing.get_context("fork")
        barrier, results = context.Barrier(concurrency + 1), context.Queue()
        share = transfers // concurrency
        connections.close_all()
        workers = [
            context.Process(
                target=_worker,
                args=(tenant.schema_name, accounts, hot_account, share, worker, run, barrier, results),
            )
            for worker in range(concurrency)
        ]
        for process in workers:
            process.start()
        barrier.wait()
        started = time.perf_counter()
        latencies, failures = [], {}
        for _ in workers:
            worker_latencies, worker_failures = results.get()
            latencies.extend(worker_latencies)
            for code, n in worker_failures.items():
                failures[code] = failures.get(code, 0) + n
        elapsed = time.perf_counter() - started
        for process in workers:
            process.join()
        return {
            "tps": len(latencies) / elapsed,
            "count": len(latencies),
            "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000,
            "failures": failures,
            "concurrency": concurrency,
            "hot": hot_account is not None,
            "accounts": len(accounts) + (1 if hot_account else 0),
        }

    def _line(self, label, result, baseline) -> None:
        ratio = result["tps"] / baseline["tps"]
        failures = ", ".join(f"{code} {n}" for code, n in sorted(result["failures"].items())) or "none"
        self.stdout.write(
            f"{label}: {result['count']:,} transfers, {result['concurrency']} processes, {result['accounts']} accounts"
            f"{', one hot wallet in every transfer' if result['hot'] else ''}: {result['tps']:,.0f} transfers/s, "
            f"p50 {result['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms; "
            f"{ratio:.2f} x pgbench (target >= 0.50); failures: {failures}"
        )

    def _seed(self, tenant, postings: int) -> int:
        """Bulk-write balanced history (amount 1 between neighbouring wallets) with correct
        sequences, balance_after and balances. Seeded rows carry no hashes: the scratch tenant
        exists only for this run."""
        entries = postings // 2
        with in_tenant(tenant), connection.cursor() as cursor:
            cursor.execute(_SEED, {"entries": entries, "prefix": f"seed-{uuid.uuid4().hex[:6]}-"})
            cursor.execute("ANALYZE ledger_posting; ANALYZE ledger_journalentry; ANALYZE ledger_account")
        return entries * 2


_SEED = """
WITH wallets AS (
    SELECT array_agg(id ORDER BY id) AS ids, count(*) AS n FROM ledger_account WHERE owner_ref LIKE 'bench:%%'
), entries AS (
    INSERT INTO ledger_journalentry (public_id, external_ref, request_digest, kind, description, metadata,
                                     effective_at, posted_at, hash)
    SELECT 'jrn_' || md5(%(prefix)s || g), %(prefix)s || g, '', 'transfer', 'seeded history', '{}', now(), now(), ''
      FROM generate_series(1, %(entries)s) AS g
    RETURNING id
), numbered AS (
    SELECT id, row_number() OVER (ORDER BY id) AS g FROM entries
), lines AS (
    SELECT n.id AS entry_id, 1 AS line, w.ids[1 + (n.g %% w.n)] AS account_id, 'D' AS direction, -1 AS signed
      FROM numbered n, wallets w
    UNION ALL
    SELECT n.id, 2, w.ids[1 + ((n.g + 1) %% w.n)], 'C', 1 FROM numbered n, wallets w
), placed AS (
    SELECT l.entry_id, l.line, l.account_id, l.direction,
           a.last_sequence + row_number() OVER w AS sequence,
           a.posted + sum(l.signed) OVER w AS balance_after, l.signed
      FROM lines l JOIN ledger_account a ON a.id = l.account_id
    WINDOW w AS (PARTITION BY l.account_id ORDER BY l.entry_id, l.line)
), inserted AS (
    INSERT INTO ledger_posting (entry_id, line, account_id, direction, amount, currency, sequence, balance_after,
                                hash, posted_at)
    SELECT entry_id, line, account_id, direction, 1, 'PHP', sequence, balance_after, '', now() FROM placed
    RETURNING account_id
)
UPDATE ledger_account a SET posted = a.posted + t.net, last_sequence = t.last
  FROM (SELECT account_id, sum(signed) AS net, max(sequence) AS last FROM placed GROUP BY account_id) t
 WHERE a.id = t.account_id
"""
