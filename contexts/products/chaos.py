"""The bank workload (after Jepsen's bank test) against the HTTP API, under faults.

K funded wallets; C client processes make random transfers over HTTP, each with its own
Idempotency-Key and a random client-side timeout, retrying the same request with the same key
after a timeout, a dropped connection, a 503, a 409 `idempotency_key_in_use` or a 429. Meanwhile
the harness terminates random database backends of the server and the worker
(`pg_terminate_backend`) and restarts the Celery worker (SIGTERM and SIGKILL in turn), and does
beat's job of sweeping the outbox. Afterwards it checks, and reports every failure it finds:

- money is conserved to the unit: the wallets hold exactly what they were funded with;
- no wallet's posted or available balance is negative;
- every acknowledged transfer (a 201) is present exactly once: one operation for its key, one
  journal entry with the right accounts and amount, two transaction rows; and no transfer the
  clients were never told about succeeded;
- every retry got its request's first result (the same id, or the same refusal);
- no response was a 500;
- `ledger_verify` and `audit_verify` are clean;
- the outbox drained: nothing pending, nothing dead, a `journal.posted` for every entry.
"""

from __future__ import annotations

import io
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count

from contexts.ledger import api as ledger_api
from finfactory.loadtest import ROOT, JsonClient, gunicorn_serving, run_clients, server_environment
from finfactory.outbox.models import OutboxEvent, OutboxStatus
from finfactory.outbox.tasks import sweep_outboxes
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant

from .loadsetup import CURRENCY, LoadTenant, load_tenant_create, load_tenant_drop
from .models import Operation, OperationKind, OperationStatus, Transaction

RETRY_STATUSES = {409, 429, 502, 503, 504}


@dataclass
class ChaosOptions:
    wallets: int = 20
    clients: int = 6
    seconds: float = 60.0
    funding: int = 1_000_000
    max_amount: int = 50_000
    timeout_min: float = 0.02
    timeout_max: float = 1.0
    final_timeout: float = 30.0
    kill_every: float = 1.0
    restart_worker_every: float = 10.0
    sweep_every: float = 2.0
    drain_timeout: float = 180.0
    web_workers: int = 2
    web_threads: int = 4
    worker_concurrency: int = 2
    queue: str = ""
    keep: bool = False


@dataclass
class ChaosReport:
    transfers: int = 0
    acknowledged: int = 0
    refused: dict = field(default_factory=dict)
    unresolved: int = 0
    attempts: int = 0
    retries: int = 0
    statuses: dict = field(default_factory=dict)
    backends_killed: int = 0
    worker_restarts: int = 0
    events_delivered: int = 0
    seconds: float = 0.0
    drain_seconds: float = 0.0
    problems: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# --- clients -------------------------------------------------------------------------------------


def _client(index, barrier, url, key, wallets, options: ChaosOptions, deadline_in: float, run: str) -> list[dict]:
    """Random transfers until the deadline; each request is retried with its key until answered."""
    rng = random.Random(f"{run}-{index}")  # noqa: S311 - workload shape, not secrets
    client = JsonClient(url, key=key)
    records = []
    barrier.wait()
    deadline = time.monotonic() + deadline_in
    n = 0
    while time.monotonic() < deadline:
        source, destination = rng.sample(wallets, 2)
        body = {"source_wallet_id": source, "destination_wallet_id": destination,
                "amount": rng.randint(100, options.max_amount), "currency": CURRENCY}  # fmt: skip
        record = {"key": f"{run}-{index}-{n}", "body": body, "attempts": []}
        n += 1
        while True:
            final = time.monotonic() >= deadline or len(record["attempts"]) >= 8
            client.timeout = options.final_timeout if final else rng.uniform(options.timeout_min, options.timeout_max)
            try:
                status, answer = client.request("POST", "/v1/transfers", body, {"Idempotency-Key": record["key"]})
            except OSError:
                record["attempts"].append(["timeout", None, None])
                if final:
                    break  # the server did not answer in final_timeout: left unresolved, checked below
                time.sleep(rng.uniform(0.01, 0.1))
                continue
            answer = answer or {}
            record["attempts"].append([status, answer.get("id"), answer.get("code")])
            if status in RETRY_STATUSES and not final:
                time.sleep(rng.uniform(0.02, 0.2))
                continue
            break
        records.append(record)
    client.close()
    return records


# --- faults --------------------------------------------------------------------------------------


class Worker:
    """A Celery worker process on the run's queue, with the production settings."""

    def __init__(self, queue: str, concurrency: int, log: Path | None):
        self.queue, self.concurrency, self.log = queue, concurrency, log
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        output = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115 - the child keeps it
        self.process = subprocess.Popen(  # noqa: S603 - our own celery, fixed arguments
            [str(Path(sys.executable).with_name("celery")), "-A", "config", "worker", "-Q", self.queue,
             "-n", f"{self.queue}-{self.starts}@localhost", "--pool", "prefork", "--concurrency",
             str(self.concurrency), "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
            cwd=ROOT, env=server_environment(port=0, workers=1, threads=1, OUTBOX_QUEUE=self.queue,
                                             CELERY_TASK_DEFAULT_QUEUE=self.queue),
            stdout=output, stderr=output, start_new_session=True,
        )  # fmt: skip
        if self.log:
            output.close()

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


class Faults(threading.Thread):
    """Terminates random backends of this database and restarts the worker until stopped."""

    def __init__(self, options: ChaosOptions, worker: Worker, report: ChaosReport, run: str):
        super().__init__(name="chaos-faults", daemon=True)
        self.options, self.worker, self.report = options, worker, report
        self.rng = random.Random(f"{run}-faults")  # noqa: S311 - fault schedule, not secrets
        self.stopping = threading.Event()

    def run(self) -> None:
        from django.db import connections

        next_kill = time.monotonic() + self.options.kill_every
        next_restart = time.monotonic() + self.options.restart_worker_every
        next_sweep = time.monotonic()
        try:
            while not self.stopping.wait(0.05):
                now = time.monotonic()
                if self.options.kill_every and now >= next_kill:
                    self.report.backends_killed += self._kill_one()
                    next_kill = now + self.rng.uniform(0.5, 1.5) * self.options.kill_every
                if self.options.restart_worker_every and now >= next_restart:
                    self.worker.stop(signal.SIGKILL if self.report.worker_restarts % 2 else signal.SIGTERM)
                    self.worker.start()
                    self.report.worker_restarts += 1
                    next_restart = now + self.options.restart_worker_every
                if now >= next_sweep:
                    sweep_outboxes.apply_async(queue=self.worker.queue)  # what beat does
                    next_sweep = now + self.options.sweep_every
        finally:
            connections.close_all()

    def _kill_one(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND backend_type = 'client backend'"
            )
            pids = [row[0] for row in cursor.fetchall()]
            if not pids:
                return 0
            cursor.execute("SELECT pg_terminate_backend(%s)", [self.rng.choice(pids)])
            return int(bool(cursor.fetchone()[0]))


# --- the run -------------------------------------------------------------------------------------


def chaos_bank(options: ChaosOptions, *, log_dir: Path | None = None, say=print) -> ChaosReport:
    run = uuid.uuid4().hex[:8]
    queue = options.queue or f"chaos-{run}"
    report = ChaosReport()
    load = load_tenant_create(label="chaos", wallets=options.wallets, funding=options.funding)
    say(f"tenant {load.tenant.slug}: {options.wallets} wallets of {options.funding} {CURRENCY} minor units each")
    worker = Worker(queue, options.worker_concurrency, log_dir / "worker.log" if log_dir else None)
    try:
        worker.start()
        with gunicorn_serving(workers=options.web_workers, threads=options.web_threads, OUTBOX_QUEUE=queue,
                              log=log_dir / "gunicorn.log" if log_dir else None) as url:  # fmt: skip
            faults = Faults(options, worker, report, run)
            faults.start()
            started = time.monotonic()
            try:
                outcomes, _ = run_clients(_client, options.clients, url, load.key, load.wallets, options,
                                          options.seconds, run)  # fmt: skip
            finally:
                faults.stopping.set()
                faults.join()
            report.seconds = time.monotonic() - started
        if worker.process is None or worker.process.poll() is not None:
            worker.start()
        records = [record for outcome in outcomes for record in outcome]
        _tally(records, report)
        say(
            f"{report.transfers} transfers in {report.seconds:.1f} s ({report.attempts} requests, "
            f"{report.retries} retries); {report.backends_killed} backends killed, "
            f"{report.worker_restarts} worker restarts"
        )
        started = time.monotonic()
        _drain(load, queue, options.drain_timeout, report)
        report.drain_seconds = time.monotonic() - started
        _check(load, records, report)
    finally:
        worker.stop()
        if not options.keep:
            load_tenant_drop(load.tenant)
    return report


def _tally(records: list[dict], report: ChaosReport) -> None:
    report.transfers = len(records)
    for record in records:
        report.attempts += len(record["attempts"])
        report.retries += len(record["attempts"]) - 1
        for status, _, _ in record["attempts"]:
            report.statuses[str(status)] = report.statuses.get(str(status), 0) + 1
        status, _, code = record["attempts"][-1]
        if status == 201:
            report.acknowledged += 1
        elif status == 422:
            report.refused[code] = report.refused.get(code, 0) + 1
        else:
            report.unresolved += 1
    if report.statuses.get("500"):
        report.problems.append(f"{report.statuses['500']} responses were 500 Internal Server Error")


def _drain(load: LoadTenant, queue: str, timeout: float, report: ChaosReport) -> None:
    """Sweep (as beat would) until the tenant's outbox has nothing pending, or `timeout`."""
    deadline = time.monotonic() + timeout
    with in_tenant(load.tenant):
        while True:
            pending = OutboxEvent.objects.filter(status=OutboxStatus.PENDING).count()
            if not pending:
                break
            if time.monotonic() > deadline:
                report.problems.append(f"the outbox still holds {pending} pending events after {timeout:.0f} s")
                break
            sweep_outboxes.apply_async(queue=queue)
            time.sleep(1.0)
        counts = dict(OutboxEvent.objects.values_list("status").annotate(n=Count("id")))
    report.events_delivered = counts.get(OutboxStatus.DELIVERED, 0)
    if counts.get(OutboxStatus.DEAD):
        report.problems.append(f"{counts[OutboxStatus.DEAD]} events were dead-lettered")
    connection.set_schema_to_public()


def _check(load: LoadTenant, records: list[dict], report: ChaosReport) -> None:
    problems = report.problems
    by_key = {record["key"]: record for record in records}
    with acting_as("system:chaos"), in_tenant(load.tenant):
        # Money: conserved to the unit, never negative.
        total = 0
        for wallet, account in load.accounts.items():
            balance = ledger_api.balance_get(account_id=account)
            total += balance.posted
            if balance.posted < 0 or balance.available < 0:
                problems.append(f"wallet {wallet} is negative: posted {balance.posted}, available {balance.available}")
        expected = load.funding * len(load.wallets)
        if total != expected:
            problems.append(f"money not conserved: the wallets hold {total}, they were funded with {expected}")
        # Every transfer operation belongs to one request, and agrees with what its client was told.
        operations = {}
        for op in Operation.objects.filter(kind=OperationKind.TRANSFER):
            key = op.reference.partition(":")[2]
            if key in operations:
                problems.append(f"key {key} has two transfer operations")
            operations[key] = op
        for key, op in operations.items():
            record = by_key.get(key)
            if record is None:
                problems.append(f"operation {op.public_id} answers no client request ({op.reference})")
                continue
            problems.extend(_agrees(record, op))
        for key, record in by_key.items():
            final = record["attempts"][-1]
            if final[0] == 201 and key not in operations:
                problems.append(f"acknowledged transfer {final[1]} ({key}) is missing")
        entries = sum(1 for op in operations.values() if op.entry_id)
        posted = OutboxEvent.objects.filter(type="journal.posted").count()
        if posted != entries + len(load.wallets):  # + the funding cash-ins
            problems.append(f"{posted} journal.posted events for {entries + len(load.wallets)} journal entries")
    connection.set_schema_to_public()
    for command in ("ledger_verify", "audit_verify"):
        out = io.StringIO()
        try:
            call_command(command, tenant=load.tenant.slug, stdout=out)
        except CommandError as exc:
            problems.append(f"{command}: {exc}: {out.getvalue()[-500:]}")


def _agrees(record: dict, op: Operation) -> list[str]:
    """An operation matches its request, its ledger entry and every answer its client got."""
    problems = []
    body, key = record["body"], record["key"]
    answers = {(status, op_id, code) for status, op_id, code in record["attempts"] if status in (201, 422)}
    if len(answers) > 1:
        problems.append(f"key {key} got different answers: {sorted(answers, key=str)}")
    asked = (body["source_wallet_id"], body["destination_wallet_id"], body["amount"])
    if (op.wallet_id, op.counterparty_wallet_id, op.amount) != asked:
        problems.append(f"operation {op.public_id} does not match the request of {key}")
    if op.status == OperationStatus.SUCCEEDED:
        for status, op_id, _ in answers:
            if (status, op_id) != (201, op.public_id):
                problems.append(f"key {key}: succeeded as {op.public_id}, but a client was told {status} {op_id}")
        entry = ledger_api.entry_get(entry_id=op.entry_id)
        moved = sorted((p.direction, p.amount) for p in entry.postings)
        if moved != [("credit", op.amount), ("debit", op.amount)]:
            problems.append(f"entry {entry.id} of {op.public_id} moves {moved}")
        rows = Transaction.objects.filter(reference_id=op.public_id).count()
        if rows != 2:
            problems.append(f"{op.public_id} has {rows} transaction rows, not 2")
    elif any(status == 201 for status, _, _ in answers):
        problems.append(f"key {key} was acknowledged but its operation {op.public_id} is {op.status}")
    elif op.entry_id and not op.reversal_entry_id:
        problems.append(f"{op.public_id} ({op.status}) posted {op.entry_id} and did not reverse it")
    return problems
