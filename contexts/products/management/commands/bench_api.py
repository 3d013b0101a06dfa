"""Benchmark the HTTP API as deployed: gunicorn with the production settings on loopback, C client
processes, beside ledger.api and pgbench's tpcb-like measured in the same run.

1. pgbench tpcb-like on a scratch database, scale = clients = C (the baseline).
2. A scratch tenant (contexts/products/loadsetup.py): --wallets wallets, each funded.
3. SQL statements per request, one request of each kind served in-process after a warm-up.
4. gunicorn (--web-workers x --web-threads), then, each over HTTP with keep-alive connections:
   a. transfers only, closed loop: --requests transfers from C clients (the peak transfer rate);
   b. the mix (--mix, e.g. transfer=60,cash_in=20,balance=20), closed loop: the peak rate;
   c. the same mix paced at half of b's rate for --paced-seconds, open loop: latency is counted
      from when a request was due, so a slow server cannot hide its queue.
5. The same number of transfers as (a) between the same wallets' ledger accounts through
   contexts.ledger.api, from C processes (no HTTP, no orchestration).
6. `ledger_verify` on the tenant. Everything created is dropped at the end (unless --keep).
"""

from __future__ import annotations

import io
import json
import random
import time
import uuid

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext

from contexts.ledger import api as ledger_api
from contexts.products.loadsetup import CURRENCY, LoadTenant, load_tenant_create, load_tenant_drop
from finfactory.benchmarking import PgbenchMissing, pgbench_run
from finfactory.errors import PlatformError
from finfactory.loadtest import JsonClient, Latencies, gunicorn_serving, run_clients
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant

KINDS = ("transfer", "cash_in", "balance")


def _request(kind: str, rng: random.Random, wallets, key: str):
    """(method, path, body, headers) of one request of `kind`."""
    if kind == "balance":
        return "GET", f"/v1/wallets/{rng.choice(wallets)}/balance", None, None
    headers = {"Idempotency-Key": key}
    amount = rng.randint(100, 1000)
    if kind == "cash_in":
        return (
            "POST",
            "/v1/cash-ins",
            {"wallet_id": rng.choice(wallets), "amount": amount, "currency": CURRENCY},
            headers,
        )
    source, destination = rng.sample(wallets, 2)
    body = {"source_wallet_id": source, "destination_wallet_id": destination, "amount": amount, "currency": CURRENCY}
    return "POST", "/v1/transfers", body, headers


def _kinds(mix: dict[str, int], count: int, rng: random.Random) -> list[str]:
    return rng.choices(list(mix), weights=list(mix.values()), k=count)


def _http_client(index, barrier, url, key, wallets, mix, count, run, interval):
    """One client: `count` requests, back to back (interval None) or one every `interval` s."""
    rng = random.Random(f"{run}-{index}")  # noqa: S311 - workload shape, not secrets
    client = JsonClient(url, key=key, timeout=30)
    client.request("GET", f"/v1/wallets/{wallets[0]}/balance")  # connect before the clock starts
    results = {kind: Latencies() for kind in mix}
    kinds = _kinds(mix, count, rng)
    barrier.wait()
    start = time.perf_counter() + (rng.random() * interval if interval else 0)  # clients out of step
    for n, kind in enumerate(kinds):
        method, path, body, headers = _request(kind, rng, wallets, f"{run}-{index}-{n}")
        due = start + n * interval if interval else time.perf_counter()
        if interval:
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
        try:
            status, _ = client.request(method, path, body, headers)
        except OSError:
            status = "transport_error"
        results[kind].add(time.perf_counter() - due, status)
    client.close()
    return results


def _ledger_client(index, barrier, schema, accounts, count, run):
    rng = random.Random(f"{run}-ledger-{index}")  # noqa: S311 - workload shape, not secrets
    result = Latencies()
    with acting_as("system:bench"), in_tenant(schema):
        ledger_api.balance_get(account_id=accounts[0])  # connect before the clock starts
        barrier.wait()
        for n in range(count):
            debit, credit = rng.sample(accounts, 2)
            started = time.perf_counter()
            try:
                ledger_api.transfer(
                    external_ref=f"bench-{run}-{index}-{n}",
                    debit_account_id=debit,
                    credit_account_id=credit,
                    amount=rng.randint(100, 1000),
                    currency=CURRENCY,
                )
                status = 201
            except PlatformError as exc:
                status = exc.code
            result.add(time.perf_counter() - started, status)
    return {"transfer": result}


def _merge(outcomes: list[dict[str, Latencies]]) -> dict[str, Latencies]:
    merged: dict[str, Latencies] = {}
    for outcome in outcomes:
        for kind, latencies in outcome.items():
            merged.setdefault(kind, Latencies()).merge(latencies)
    return merged


def _parse_mix(text: str) -> dict[str, int]:
    mix = {}
    for part in text.split(","):
        kind, _, weight = part.partition("=")
        if kind.strip() not in KINDS or not weight.strip().isdigit():
            raise CommandError(f"--mix: expected kind=weight with kinds {', '.join(KINDS)}, got {part!r}")
        mix[kind.strip()] = int(weight)
    if not any(mix.values()):
        raise CommandError("--mix: at least one weight must be positive")
    return {kind: weight for kind, weight in mix.items() if weight}


class Command(BaseCommand):
    help = "HTTP API throughput and latency (gunicorn, production settings) beside ledger.api and pgbench."

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=4000, help="Requests in each closed-loop run.")
        parser.add_argument("--concurrency", type=int, default=8, help="Client processes (and pgbench clients).")
        parser.add_argument("--wallets", type=int, default=200)
        parser.add_argument("--mix", default="transfer=60,cash_in=20,balance=20")
        parser.add_argument("--paced-seconds", type=float, default=20.0)
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument("--web-threads", type=int, default=1)
        parser.add_argument("--json", dest="json_out", metavar="FILE", help="Also write the figures as JSON.")
        parser.add_argument("--keep", action="store_true", help="Keep the scratch tenant and database.")

    def handle(self, *args, **options):
        requests, concurrency = options["requests"], options["concurrency"]
        self.verbosity = options["verbosity"]
        if concurrency < 1 or requests < concurrency or options["wallets"] < 2:
            raise CommandError("need --requests >= --concurrency >= 1 and --wallets >= 2")
        mix = _parse_mix(options["mix"])
        run = uuid.uuid4().hex[:8]
        try:
            baseline = pgbench_run(run=run, scale=concurrency, clients=concurrency, transactions=requests,
                                   keep=options["keep"])  # fmt: skip
        except PgbenchMissing as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(baseline.describe())
        started = time.perf_counter()
        load = load_tenant_create(label="bench-api", wallets=options["wallets"], funding=4_000_000)
        self.stdout.write(f"scratch tenant {load.tenant.slug}: {len(load.wallets)} funded wallets "
                          f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
        report = {"machine": _machine(), "pgbench_tps": baseline.tps, "concurrency": concurrency}
        try:
            report["statements_per_request"] = self._statements(load)
            with gunicorn_serving(workers=options["web_workers"], threads=options["web_threads"]) as url:
                self.stdout.write(f"gunicorn (production settings): {options['web_workers']} workers x "
                                  f"{options['web_threads']} threads at {url}")  # fmt: skip
                transfers = self._http(url, load, {"transfer": 1}, requests, concurrency, f"{run}t", None)
                report["transfers_only"] = self._print("HTTP transfers only (closed loop)", *transfers, baseline.tps)
                mixed = self._http(url, load, mix, requests, concurrency, f"{run}m", None)
                report["mix"] = self._print(f"HTTP mix {options['mix']} (closed loop)", *mixed, baseline.tps)
                half = report["mix"]["rate"] / 2
                per_client = max(1, int(half * options["paced_seconds"] / concurrency))
                paced = self._http(url, load, mix, per_client * concurrency, concurrency, f"{run}p",
                                   concurrency / half)  # fmt: skip
                report["paced"] = self._print(f"HTTP mix paced at {half:,.0f} req/s (half the peak)", *paced,
                                              baseline.tps)  # fmt: skip
            ledger = self._ledger(load, report["transfers_only"]["count"], concurrency, run)
            report["ledger"] = self._print("ledger.api transfers (same wallets, no HTTP)", *ledger, baseline.tps)
            report["http_over_ledger"] = report["transfers_only"]["rate"] / report["ledger"]["rate"]
            self.stdout.write(
                f"ratios: HTTP transfers / pgbench {report['transfers_only']['ratio']:.2f} (target >= 0.20); "
                f"ledger.api / pgbench {report['ledger']['ratio']:.2f}; HTTP / ledger.api "
                f"{report['http_over_ledger']:.2f}; paced p95 {report['paced']['p95_ms']:.1f} ms (target < 50 ms)"
            )
            report["ledger_verify"] = self._verify(load)
        finally:
            if not options["keep"]:
                load_tenant_drop(load.tenant)
        if options["json_out"]:
            with open(options["json_out"], "w") as out:
                json.dump(report, out, indent=2, default=str)
        errors = sum(r.get("server_errors", 0) for r in (report["transfers_only"], report["mix"], report["paced"]))
        if errors or not report["ledger_verify"]:
            raise CommandError(
                f"{errors} server errors; ledger_verify {'clean' if report['ledger_verify'] else 'FAILED'}"
            )

    def _statements(self, load: LoadTenant) -> dict[str, int]:
        """SQL statements of one request of each kind, served in-process after a warm-up request."""
        client = Client(HTTP_AUTHORIZATION=f"Bearer {load.key}", HTTP_HOST="127.0.0.1")
        rng = random.Random(0)  # noqa: S311 - workload shape
        counts = {}
        for kind in KINDS:
            for attempt in range(2):
                method, path, body, headers = _request(kind, rng, load.wallets, f"stmt-{kind}-{attempt}")
                extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items()}
                reset_queries()  # a full query log (DEBUG, after the setup) would hide the count
                with CaptureQueriesContext(connection) as captured:
                    if method == "GET":
                        response = client.get(path, secure=True, **extra)
                    else:
                        response = client.post(path, body, content_type="application/json", secure=True, **extra)
                if response.status_code >= 300:
                    raise CommandError(f"{method} {path} → {response.status_code}: {response.content[:300]!r}")
            counts[kind] = len(captured.captured_queries)
            if self.verbosity >= 2:
                self.stdout.write(f"  {kind}: {counts[kind]} statements")
                for query in captured.captured_queries:
                    self.stdout.write(f"    {query['time']} s  {query['sql'][:160]}")
        connection.set_schema_to_public()
        self.stdout.write("SQL statements per request: " + ", ".join(f"{k} {n}" for k, n in counts.items()))
        return counts

    def _http(self, url, load, mix, requests, concurrency, run, interval) -> tuple[dict[str, Latencies], float]:
        """(latencies by kind, seconds) of `requests` HTTP requests from `concurrency` clients."""
        share = requests // concurrency
        outcomes, elapsed = run_clients(_http_client, concurrency, url, load.key, load.wallets, mix, share, run,
                                        interval)  # fmt: skip
        return _merge(outcomes), elapsed

    def _ledger(self, load, transfers: int, concurrency: int, run: str) -> tuple[dict[str, Latencies], float]:
        """The same, as `transfers` ledger.api transfers between the wallets' accounts."""
        accounts = [load.accounts[w] for w in load.wallets]
        outcomes, elapsed = run_clients(_ledger_client, concurrency, load.tenant.schema_name, accounts,
                                        transfers // concurrency, run)  # fmt: skip
        return _merge(outcomes), elapsed

    def _print(self, label: str, results: dict[str, Latencies], elapsed: float, pgbench_tps: float) -> dict:
        total = Latencies()
        for latencies in results.values():
            total.merge(latencies)
        rate = len(total.seconds) / elapsed
        summary = {**total.summary(), "rate": rate, "ratio": rate / pgbench_tps, "server_errors": total.server_errors,
                   "statuses": total.statuses}  # fmt: skip
        self.stdout.write(
            f"{label}: {summary['count']:,} requests, {rate:,.0f}/s ({summary['ratio']:.2f} x pgbench); "
            f"p50 {summary['p50_ms']:.1f} ms, p95 {summary['p95_ms']:.1f} ms, p99 {summary['p99_ms']:.1f} ms; "
            f"statuses {json.dumps(total.statuses, sort_keys=True)}"
        )
        if len(results) > 1:
            for kind, latencies in results.items():
                part = latencies.summary()
                self.stdout.write(f"  {kind}: {part['count']:,}, p50 {part['p50_ms']:.1f} ms, "
                                  f"p95 {part['p95_ms']:.1f} ms, p99 {part['p99_ms']:.1f} ms")  # fmt: skip
                summary[kind] = part
        return summary

    def _verify(self, load: LoadTenant) -> bool:
        out = io.StringIO()
        try:
            call_command("ledger_verify", tenant=load.tenant.slug, stdout=out)
        except CommandError as exc:
            self.stdout.write(out.getvalue() + f"ledger_verify: {exc}")
            return False
        self.stdout.write("ledger_verify after the runs: clean")
        return True


def _machine() -> dict:
    import os
    import platform

    with open("/proc/meminfo") as meminfo:
        memory = int(meminfo.readline().split()[1]) // 1024 // 1024
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    return {"cpus": os.cpu_count(), "memory_gib": memory, "python": platform.python_version(), "postgresql": postgres,
            "kernel": platform.release()}  # fmt: skip
