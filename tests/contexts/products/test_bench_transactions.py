"""bench_transactions end to end on a small history: the baseline, every case, and the clean-up."""

import re
from io import StringIO

from django.core.management import call_command
from django.db import connection

from finfactory.tenancy.models import Tenant


def test_bench_transactions_reports_each_page_beside_pgbench_and_cleans_up(transactional_db):
    out = StringIO()

    call_command("bench_transactions", rows=500, samples=3, stdout=out)

    text = out.getvalue()
    assert re.search(r"pgbench tpcb-like: scale 1 \(select-only\), 1 clients, 1,000 transactions", text), text
    assert "seeded 500 transactions of one wallet" in text
    for case, rows in [("first page", 20), ("page half-way through the history", 20),
                       ("type filter \\(transfer_out\\)", 20), ("created_before the middle of the history", 20),
                       ("created_before the first transaction \\(an empty page\\)", 0)]:  # fmt: skip
        assert re.search(rf"transactions list, {case}: {rows} rows, p50 [\d.]+ ms, p99 [\d.]+ ms", text), (case, text)
    assert not Tenant.objects.filter(slug__startswith="bench-txn-").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 't_bench_txn_%%'")
        assert cursor.fetchone()[0] == 0
