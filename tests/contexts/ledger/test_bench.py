"""bench_ledger end to end on a small run: pgbench baseline, transfers, verify, seeded history."""

import re
from io import StringIO

from django.core.management import call_command
from django.db import connection

from finfactory.tenancy.models import Tenant


def test_bench_ledger_reports_rates_against_pgbench_and_cleans_up(transactional_db):
    out = StringIO()
    call_command("bench_ledger", transfers=60, concurrency=2, accounts=6, seed_postings=400, stdout=out)
    text = out.getvalue()

    assert re.search(r"pgbench tpcb-like: scale 2, 2 clients, 60 transactions: [\d,]+ tps", text), text
    first = re.search(
        r"ledger transfers: 60 transfers, 2 processes, 6 accounts: [\d,]+ transfers/s, "
        r"p50 [\d.]+ ms, p99 [\d.]+ ms; ([\d.]+) x pgbench \(target >= 0.50\); failures: none",
        text,
    )
    assert first, text
    assert re.search(r"chain sealing afterwards: 66 entries in [\d.]+ s", text), text
    assert "ledger_verify after the run: OK (66 entries, 132 postings, trial balance {'PHP': 0})" in text
    assert "seeded 400 postings of history" in text
    assert re.search(r"ledger transfers after \+400 postings: 60 transfers", text), text
    assert re.search(r"rate with history / rate without: [\d.]+", text), text
    assert not Tenant.objects.filter(slug__startswith="bench-ledger-").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_database WHERE datname LIKE %s", ["%_pgbench_%"])
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 't_bench_ledger_%%'")
        assert cursor.fetchone()[0] == 0
