"""Measure the outbox: publish overhead per transaction, drain throughput, and delivery lag at a
steady publish rate, with real Celery worker processes over the configured broker."""

import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from finfactory.outbox.drain import DRAIN_TASK
from finfactory.outbox.models import OutboxEvent, OutboxStatus
from finfactory.outbox.publish import publish
from finfactory.platform.services import tenant_provision
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant
from finfactory.tenancy.models import Tenant
from finfactory.tenancy.schemas import tenant_schema_drop

TARGETS = {"throughput": 2000.0, "overhead_ms": 0.5, "lag_p99_s": 1.0}


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class Command(BaseCommand):
    help = "Outbox benchmark: publish overhead (ms/transaction), drained events/s, lag p50/p99."

    def add_arguments(self, parser):
        parser.add_argument("--events", type=int, default=20000, help="Backlog drained for throughput")
        parser.add_argument("--transactions", type=int, default=2000, help="Transactions timed for overhead")
        parser.add_argument("--rate", type=int, default=500, help="Events/s published for the lag phase")
        parser.add_argument("--seconds", type=float, default=10.0, help="Length of the lag phase")
        parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
        parser.add_argument("--concurrency", type=int, default=2, help="Pool size of each worker")
        parser.add_argument("--keep", action="store_true", help="Keep the benchmark tenant")

    def handle(self, *args, **o):
        run = uuid.uuid4().hex[:8]
        queue = f"bench-outbox-{run}"
        with acting_as("system:bench_outbox"):
            tenant = tenant_provision(slug=f"bench-outbox-{run}", name="Outbox benchmark").tenant
        workers = []
        try:
            with in_tenant(tenant):
                overhead_ms = self._overhead(o["transactions"], run)
                settings.OUTBOX_QUEUE = f"{queue}-parked"  # nobody drains the backlog while it is built
                self._publish_backlog(o["events"], run)
                # The overhead phase's events are drained by no one: they must not count later.
                OutboxEvent.objects.filter(aggregate_id__startswith="overhead-").delete()
                workers = self._start_workers(queue, o["workers"], o["concurrency"])
                throughput = self._drain_backlog(queue, o["events"])
                settings.OUTBOX_QUEUE = queue
                lags, achieved = self._lag(o["rate"], o["seconds"], run)
        finally:
            for worker in workers:
                os.killpg(worker.pid, signal.SIGTERM)
            for worker in workers:
                worker.wait(timeout=60)
            if not o["keep"]:
                tenant_schema_drop(tenant.schema_name)
                Tenant.objects.filter(pk=tenant.pk).delete()
        p50, p99 = percentile(lags, 0.50), percentile(lags, 0.99)
        self.stdout.write(
            f"publish overhead: {overhead_ms:.3f} ms per transaction (target < {TARGETS['overhead_ms']})\n"
            f"drain throughput: {throughput:.0f} events/s with {o['workers']} workers x {o['concurrency']} "
            f"(target >= {TARGETS['throughput']:.0f})\n"
            f"delivery lag at {achieved:.0f} events/s achieved ({o['rate']} asked) for {o['seconds']:.0f} s "
            f"({len(lags)} events): "
            f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms (target p99 < {TARGETS['lag_p99_s']:.0f} s)"
        )

    def _overhead(self, transactions: int, run: str) -> float:
        """The same state change with and without one publish(), alternating, on one connection.

        The state change is a row in a regular (WAL-logged) table of the tenant's schema, as any real
        change is: both variants pay the commit's WAL flush, so the difference is the publish itself.
        """
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE IF NOT EXISTS bench_row (id bigserial primary key, n int)")
        plain, published = [], []
        for n in range(transactions):
            for sample, with_event in ((plain, False), (published, True)):
                started = time.perf_counter()
                with transaction.atomic():
                    with connection.cursor() as cursor:
                        cursor.execute("INSERT INTO bench_row (n) VALUES (%s)", [n])
                    if with_event:
                        publish("outbox.probe", f"overhead-{n % 50}", {"n": n, "run": run})
                sample.append(time.perf_counter() - started)
        return (statistics.median(published) - statistics.median(plain)) * 1000

    def _publish_backlog(self, events: int, run: str) -> None:
        for start in range(0, events, 500):
            with transaction.atomic():
                for n in range(start, min(events, start + 500)):
                    publish("outbox.probe", f"backlog-{n % 200}", {"n": n, "run": run})

    def _start_workers(self, queue: str, count: int, concurrency: int):
        db = connection.settings_dict
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.dev"),
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "OUTBOX_QUEUE": queue,
            "LOG_LEVEL": "WARNING",
        }
        root = Path(settings.BASE_DIR)
        celery = str(Path(sys.executable).with_name("celery"))
        workers = []
        for i in range(count):
            command = [celery, "-A", "config", "worker", "-Q", queue, "-n", f"{queue}-{i}@%h"]
            command += [
                "--concurrency",
                str(concurrency),
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "WARNING",
            ]
            workers.append(
                subprocess.Popen(command, cwd=root, env=env, start_new_session=True, stdout=subprocess.DEVNULL)  # noqa: S603
            )
        return workers

    def _pending(self) -> int:
        return OutboxEvent.objects.filter(status=OutboxStatus.PENDING).count()

    def _drain_backlog(self, queue: str, events: int) -> float:
        from celery import current_app

        time.sleep(3)  # let the workers connect to the broker before the clock starts
        started = time.perf_counter()
        for partition in range(settings.OUTBOX_DRAIN_PARTITIONS):
            current_app.send_task(
                DRAIN_TASK,
                kwargs={"partition": partition},
                queue=queue,
                headers={"_schema_name": connection.schema_name},
            )
        while self._pending():
            time.sleep(0.05)
        return events / (time.perf_counter() - started)

    def _lag(self, rate: int, seconds: float, run: str) -> tuple[list[float], float]:
        interval = 1.0 / rate
        started = time.perf_counter()
        n = 0
        while time.perf_counter() - started < seconds:
            with transaction.atomic():
                publish("outbox.probe", f"lag-{n % 100}", {"n": n, "run": run})
            n += 1
            delay = started + n * interval - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        achieved = n / (time.perf_counter() - started)
        deadline = time.monotonic() + 60
        while self._pending() and time.monotonic() < deadline:
            time.sleep(0.1)
        rows = OutboxEvent.objects.filter(aggregate_id__startswith="lag-", status=OutboxStatus.DELIVERED)
        lags = [(r.delivered_at - r.occurred_at).total_seconds() for r in rows.only("occurred_at", "delivered_at")]
        return lags, achieved
