"""bench_fraud end to end on a small run: pgbench baseline, prepared tenant, scoring percentiles."""

import re
from io import StringIO

from django.core.management import call_command
from django.db import connection

from contexts.fraud import scoring_model
from finfactory.tenancy.models import Tenant


def test_bench_fraud_reports_percentiles_beside_pgbench_and_cleans_up(transactional_db):
    scoring_model.models_forget()
    out = StringIO()

    call_command("bench_fraud", movements=40, history=1000, blocked=20, stdout=out)

    text = out.getvalue()
    assert re.search(r"pgbench tpcb-like: scale 1, 1 clients, 40 transactions: [\d,]+ tps", text), text
    assert re.search(r"prepared in [\d.]+ s: 1,000 synthetic movements of \d+ customers, 20 blocked devices, "
                     r"model v1 active \(ROC AUC [\d.]+\), v2 in shadow", text), text  # fmt: skip
    result = re.search(
        r"fraud scoring: 40 movements in one process: p50 ([\d.]+) ms, p95 [\d.]+ ms, p99 ([\d.]+) ms, "
        r"max [\d.]+ ms \(target p99 < 20 ms: (met|MISSED)\); p50 = [\d.]+ x pgbench's transaction latency",
        text,
    )
    assert result, text
    assert float(result.group(1)) <= float(result.group(2))
    decided = re.search(r"decisions: (.*)", text).group(1)
    assert sum(int(n.replace(",", "")) for n in re.findall(r"(?:approve|review|decline) ([\d,]+)", decided)) == 40
    assert not Tenant.objects.filter(slug__startswith="bench-fraud-").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 't_bench_fraud_%%'")
        assert cursor.fetchone()[0] == 0
