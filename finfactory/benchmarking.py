"""What every benchmark command shares: the pgbench baseline taken in the same run, and percentiles.

A figure of ours means little on its own on a machine whose speed varies from run to run; beside
pgbench's tpcb-like on the same server, minutes apart, it can be compared between runs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from glob import glob

from django.conf import settings
from django.db import connection


class PgbenchMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class PgbenchResult:
    scale: int
    clients: int
    transactions: int
    tps: float
    latency_ms: float

    def describe(self, note: str = "") -> str:
        return (
            f"pgbench tpcb-like: scale {self.scale}{note}, {self.clients} clients, {self.transactions:,} transactions: "
            f"{self.tps:,.0f} tps, latency average {self.latency_ms:.2f} ms"
        )


def pgbench_binary() -> str:
    found = shutil.which("pgbench") or next(iter(sorted(glob("/usr/lib/postgresql/*/bin/pgbench"), reverse=True)), None)
    if not found:
        raise PgbenchMissing(
            "pgbench is not installed (it ships with the PostgreSQL client package: postgresql-client)"
        )
    return found


def pgbench_run(
    *, run: str, scale: int, clients: int, transactions: int, keep: bool = False, select_only: bool = False
) -> PgbenchResult:
    """pgbench's tpcb-like (or its select-only script) on a scratch database of the same server
    (dropped afterwards unless `keep`): `transactions` in all, spread over `clients`."""
    binary = pgbench_binary()
    db = settings.DATABASES["default"]
    scratch = f"{db['NAME']}_pgbench_{run}"[:63]
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    common = [
        "-h",
        db.get("HOST") or "127.0.0.1",
        "-p",
        str(db.get("PORT") or 5432),
        "-U",
        db.get("USER") or "postgres",
    ]
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{scratch}"')
    try:
        subprocess.run(  # noqa: S603 - our own pgbench, arguments from settings
            [binary, *common, "-i", "-q", "-s", str(scale), scratch], env=env, check=True, capture_output=True
        )
        per_client = max(1, transactions // clients)
        completed = subprocess.run(  # noqa: S603 - our own pgbench, arguments from settings
            [binary, *common, "-n", *(["-S"] if select_only else []), "-c", str(clients),
             "-j", str(min(clients, os.cpu_count() or 1)), "-t", str(per_client), scratch],
            env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
    finally:
        if not keep:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
    return PgbenchResult(
        scale=scale,
        clients=clients,
        transactions=per_client * clients,
        tps=float(re.search(r"tps = ([\d.]+)", completed.stdout).group(1)),
        latency_ms=float(re.search(r"latency average = ([\d.]+) ms", completed.stdout).group(1)),
    )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
