"""`manage.py demo` completes: the whole product flow over HTTP against gunicorn, with a real Celery
worker deciding KYC, and `--once` skips a second run."""

import io
import json
import re

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.system

CASH_IN, TRANSFER, QR_AMOUNT = 500_000, 125_050, 32_075  # the demo's amounts, PHP centavos


@pytest.fixture
def demo_key(committed_tenants, celery_workers, monkeypatch, settings):
    """A committed tenant's key and a Celery worker on this test's database (stopped before the
    tenant is dropped). gunicorn, started after this fixture, inherits the environment: its tasks
    go to the worker's queue, and the sandbox decides KYC after 0.5 s."""
    key = committed_tenants("demo").api_key.secret
    celery_workers(IDENTITY_SANDBOX_DECISION_SECONDS="0.5")
    monkeypatch.setenv("OUTBOX_QUEUE", celery_workers.queue)
    monkeypatch.setenv("IDENTITY_SANDBOX_DECISION_SECONDS", "0.5")
    settings.OUTBOX_QUEUE = celery_workers.queue
    return key


def php(amount: int) -> str:
    return f"PHP {amount // 100:,}.{amount % 100:02d}"


def test_the_demo_walks_the_product_flow_and_once_skips_a_second_run(demo_key, api_server, settings, tmp_path):
    key = demo_key
    settings.BASE_DIR = tmp_path  # where --once keeps its marker (.local/demo-done)
    out = io.StringIO()

    call_command("demo", base_url=api_server, key=key, once=True, timeout=30, stdout=out)

    printed = out.getvalue()
    for step in (
        "POST /v1/customers  →  201",
        "/kyc  →  202",
        "kyc verified",
        "POST /v1/wallets  →  201",
        "POST /v1/cash-ins  →  201  cin_",
        "POST /v1/transfers  →  201  trf_",
        "POST /v1/qr-codes  →  201  qr_",
        "POST /v1/qr-payments  →  201",
        "/statement?from=",
    ):
        assert step in printed, f"{step!r} not in:\n{printed}"
    ana, ben = CASH_IN - TRANSFER - QR_AMOUNT, TRANSFER + QR_AMOUNT
    assert re.search(rf"^  Ana Reyes +wal_\w+  {php(ana)}$", printed, re.M), printed
    assert re.search(rf"^  Ben Cruz +wal_\w+  {php(ben)}$", printed, re.M), printed
    assert (php(ana), php(ben)) == ("PHP 3,428.75", "PHP 1,571.25")
    assert f"opening PHP 0.00 + credits {php(CASH_IN)} - debits {php(TRANSFER + QR_AMOUNT)} = closing {php(ana)}" in (
        printed
    )
    assert printed.rstrip().endswith("Demo completed.")
    assert json.loads((tmp_path / ".local" / "demo-done").read_text())["base_url"] == api_server

    again = io.StringIO()
    call_command("demo", base_url=api_server, key=key, once=True, stdout=again)

    assert again.getvalue().startswith("Demo already completed")
