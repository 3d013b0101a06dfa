"""A short run of `manage.py chaos_bank` (the long one is the command): transfers over HTTP with
random client timeouts and retries while database backends are terminated and the Celery worker
is restarted — then money is conserved, every acknowledged transfer is there once, every retry got
its first answer, the ledger and audit chains verify and the outbox drained."""

import io
import json

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.system


def test_a_short_bank_run_under_faults_passes_every_check(transactional_db, tmp_path):
    out = io.StringIO()

    call_command("chaos_bank", seconds=8, wallets=6, clients=4, kill_every=0.4, restart_worker_every=3,
                 json_out=str(tmp_path / "report.json"), logs=str(tmp_path), stdout=out)  # fmt: skip

    report = json.loads((tmp_path / "report.json").read_text())
    assert report["ok"] and report["problems"] == [], out.getvalue()
    # The run did what it claims: faults happened, clients retried, money moved, events flowed.
    assert report["backends_killed"] >= 5 and report["worker_restarts"] >= 2, report
    assert report["retries"] > 0 and report["acknowledged"] >= 50, report
    assert report["unresolved"] == 0 and report["statuses"].get("500", 0) == 0, report
    assert report["events_delivered"] >= report["acknowledged"] * 2, report
    assert "all checks passed" in out.getvalue()
