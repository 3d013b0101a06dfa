"""What the load commands share (`bench_api`, `chaos_bank`): the API served by gunicorn with the
production settings on loopback, a keep-alive JSON client, and client processes that start
together and report back.

The server runs as a deployment would run it (config.settings.prod: DEBUG off, HTTPS expected from
the proxy — the client sends `X-Forwarded-Proto: https` as the load balancer would), over the
command's own database, Redis and keys, so that what the command sets up the server can read.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connections

from finfactory.benchmarking import percentile

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url() -> str:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def server_environment(*, port: int, workers: int, threads: int, **extra: str) -> dict[str, str]:
    """The environment of a production-settings process sharing this process's database, Redis,
    queues and keys."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.prod",
        DATABASE_URL=database_url(),
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_CONCURRENCY=str(workers),
        WEB_THREADS=str(threads),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECRET_KEY=settings.SECRET_KEY,
        ENCRYPTION_KEYS=",".join(settings.ENCRYPTION_KEYS),
        BLIND_INDEX_KEY=settings.BLIND_INDEX_KEY,
        FRAUD_MODEL_SIGNING_KEY=settings.FRAUD_MODEL_SIGNING_KEY,
        REDIS_URL=settings.REDIS_URL,
        CACHE_URL=settings.CACHES["default"]["LOCATION"],
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        TENANTCONFIG_REDIS_URL=settings.TENANTCONFIG_REDIS_URL,
        OUTBOX_QUEUE=settings.OUTBOX_QUEUE,
        LOG_LEVEL=os.environ.get("LOAD_SERVER_LOG_LEVEL", "WARNING"),
        PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
    )
    env.update(extra)
    return env


@contextmanager
def gunicorn_serving(*, workers: int, threads: int, log: Path | None = None, **extra: str) -> Iterator[str]:
    """gunicorn (config/gunicorn.py, production settings) on a free loopback port; yields its URL
    once /readyz answers, stops it on the way out."""
    port = free_port()
    output = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    server = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
        [str(Path(sys.executable).with_name("gunicorn")), "config.wsgi", "-c", "config/gunicorn.py"],
        cwd=ROOT,
        env=server_environment(port=port, workers=workers, threads=threads, **extra),
        stdout=output,
        stderr=output,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                status, _ = JsonClient(url, timeout=2).request("GET", "/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not come up (exit status {server.poll()}); see {log or 'its log'}")
            time.sleep(0.2)
        yield url
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        if log:
            output.close()


class JsonClient:
    """One keep-alive HTTP connection speaking JSON, as a client product's SDK would."""

    def __init__(self, base_url: str, *, key: str | None = None, timeout: float = 30.0):
        host, _, port = base_url.removeprefix("http://").partition(":")
        self.host, self.port, self.timeout = host, int(port or 80), timeout
        self.headers = {"Accept": "application/json", "X-Forwarded-Proto": "https"}
        if key:
            self.headers["Authorization"] = f"Bearer {key}"
        self._connection: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        """(status, parsed JSON body or None). Raises OSError (timeouts included) on transport
        failure, after dropping the connection so that the next call opens a fresh one."""
        payload = json.dumps(body).encode() if body is not None else None
        sent = {**self.headers, **(headers or {})}
        if payload is not None:
            sent["Content-Type"] = "application/json"
        if self._connection is None:
            self._connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            self._connection.request(method, path, body=payload, headers=sent)
            response = self._connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise OSError(f"{type(exc).__name__}: {exc}") from exc
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _child(target, index, args, barrier, results) -> None:
    connections.close_all()  # never share the parent's database connections
    try:
        outcome = target(index, barrier, *args)
    except BaseException as exc:  # report it rather than leave the parent waiting
        outcome = {"crashed": f"{type(exc).__name__}: {exc}"}
    connections.close_all()
    results.put((index, outcome))


def run_clients(target: Callable, count: int, *args) -> tuple[list, float]:
    """Run `target(index, barrier, *args)` in `count` forked processes. Each calls
    `barrier.wait()` once it is ready; the clock starts when all are. Returns the outcomes in
    index order and the seconds from the start until the last one finished."""
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(count + 1), context.Queue()
    connections.close_all()
    processes = [context.Process(target=_child, args=(target, i, args, barrier, results)) for i in range(count)]
    for process in processes:
        process.start()
    barrier.wait(timeout=300)
    started = time.perf_counter()
    outcomes: dict[int, object] = {}
    for _ in processes:
        index, outcome = results.get()
        outcomes[index] = outcome
    elapsed = time.perf_counter() - started
    for process in processes:
        process.join()
    crashed = [o["crashed"] for o in outcomes.values() if isinstance(o, dict) and "crashed" in o]
    if crashed:
        raise RuntimeError(f"a client process failed: {crashed[0]}")
    return [outcomes[i] for i in range(count)], elapsed


@dataclass
class Latencies:
    """Latencies (seconds) and outcomes of one kind of request."""

    seconds: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)

    def add(self, seconds: float, status: int | str) -> None:
        self.seconds.append(seconds)
        self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1

    def merge(self, other: Latencies) -> None:
        self.seconds.extend(other.seconds)
        for status, n in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + n

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status.startswith("5"))

    @property
    def failures(self) -> int:
        return sum(n for status, n in self.statuses.items() if not status.startswith("2"))

    def summary(self) -> dict:
        if not self.seconds:
            return {"count": 0}
        return {
            "count": len(self.seconds),
            "p50_ms": percentile(self.seconds, 0.50) * 1000,
            "p95_ms": percentile(self.seconds, 0.95) * 1000,
            "p99_ms": percentile(self.seconds, 0.99) * 1000,
            "max_ms": max(self.seconds) * 1000,
        }
