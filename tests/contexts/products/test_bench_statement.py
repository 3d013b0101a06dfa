"""bench_statement end to end on a few hundred lines: the pgbench baseline, every format, the clean-up.

A module of its own: pgbench creates a database, which cannot happen inside the transaction that
test_statements' module-scoped tenant keeps open."""

import re
from io import StringIO

from django.core.management import call_command
from django.db import connection

from finfactory.tenancy.models import Tenant


def test_bench_statement_reports_each_format_next_to_pgbench_and_cleans_up(transactional_db):
    out = StringIO()

    call_command("bench_statement", lines=300, pgbench_transactions=200, stdout=out)

    text = out.getvalue()
    assert re.search(r"pgbench tpcb-like: scale 1, 1 clients, 200 transactions: [\d,]+ tps", text), text
    assert "seeded 300 statement lines (600 postings)" in text
    for name in ("json", "csv", "pdf"):
        assert re.search(
            rf"  {name}: 300 lines in [\d.]+ s \([\d,]+ lines/s, the time of [\d,]+ pgbench transactions\), "
            rf"[\d,]+ bytes(, \d+ pages)?, peak memory [\d.]+ MiB; [\d.]+ s for 100k lines at this rate",
            text,
        ), (name, text)
    assert not Tenant.objects.filter(slug__startswith="bench-stmt-").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 't_bench_stmt_%%'")
        assert cursor.fetchone()[0] == 0
