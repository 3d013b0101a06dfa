"""Crash tests: the process running a cash-out is killed (SIGKILL) right after the hold committed,
before the payout; after the restart the resume sweep and a real Celery worker finish the saga —
completed or compensated — with no money lost or duplicated and the limit usage right."""

import subprocess
import sys
import time
import uuid

import pytest
from django.db import connection

from contexts.ledger.models import JournalEntry
from contexts.ledger.verify import ledger_verify
from contexts.products import api
from contexts.products.models import Operation, Payout
from contexts.products.tasks import operations_resume_due
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant
from finfactory.tenantconfig import config_set
from tests.system.conftest import ROOT, wait_for

from .conftest import balance, usage, verify

pytestmark = pytest.mark.system
LEASE_SECONDS = 5


@pytest.fixture
def funded(committed_tenants, settings):
    """A committed tenant, its lease shortened, and a verified customer's wallet with 1,000.00."""
    tenant = committed_tenants("crash").tenant
    settings.PRODUCTS_SANDBOX_PAYOUT_SECONDS = 0.5
    with in_tenant(tenant), acting_as("system:test"):
        config_set(key="products.saga_lease_seconds", value=LEASE_SECONDS, reason="crash test", scope="tenant")
        from contexts.identity import api as identity_api

        customer = identity_api.customer_create(first_name="Crash", last_name="Test", email="crash@example.org")
        verify(customer.id, "basic")
        wallet = api.wallet_open(customer_id=customer.id, currency="PHP")
        api.cash_in(wallet_id=wallet.id, amount=100_000, currency="PHP", reference="fund-1")
    connection.set_schema_to_public()
    return tenant, wallet.id


def cash_out_killed_after_hold(tenant, wallet_id: str, amount: int, env: dict) -> str:
    """Run a cash-out in another process that dies (SIGKILL) right after its hold committed."""
    reference = f"crash-{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    code = (
        "from contexts.products import api\n"
        "from finfactory.request_context import acting_as\n"
        "from finfactory.tenancy.context import in_tenant\n"
        f"with in_tenant({tenant.slug!r}), acting_as('system:crash'):\n"
        f"    api.cash_out(wallet_id={wallet_id!r}, amount={amount}, currency='PHP', reference={reference!r})\n"
        "print('NOT KILLED')\n"
    )
    process = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings.test", "PRODUCTS_FAILPOINTS": "hold",
             "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"},
    )  # fmt: skip
    assert process.returncode == -9, (process.returncode, process.stdout[-2000:], process.stderr[-2000:])
    return reference


def resume_until_finished(tenant, reference: str) -> Operation:
    """What the restarted platform does: the beat's resume sweep once the lease passed, then the
    worker runs the payout and the saga's next steps."""

    def finished():
        with in_tenant(tenant), acting_as("system:beat"):
            operations_resume_due()
            op = Operation.objects.get(reference=reference)
        connection.set_schema_to_public()
        return op if op.status in ("succeeded", "failed") else None

    return wait_for(finished, seconds=60, what="the saga to finish after the restart")


def run_crash(funded, celery_workers, child_env, settings, amount: int):
    tenant, wallet_id = funded
    settings.PRODUCTS_QUEUE = celery_workers.queue
    reference = cash_out_killed_after_hold(tenant, wallet_id, amount, child_env)
    with in_tenant(tenant):
        op = Operation.objects.get(reference=reference)
        # Killed between the steps: the hold is there, the payout is not.
        assert (op.status, bool(op.hold_id), Payout.objects.filter(operation=op).exists()) == ("held", True, False)
        assert balance(wallet_id) == (100_000, amount + 1_500, 100_000 - amount - 1_500)
        assert usage(wallet_id, "cash_out") == (amount, 1)
    connection.set_schema_to_public()
    celery_workers(include="contexts.products.tasks", PRODUCTS_SANDBOX_PAYOUT_SECONDS="0.5")
    time.sleep(LEASE_SECONDS)
    return tenant, wallet_id, resume_until_finished(tenant, reference)


def test_a_cash_out_killed_after_its_hold_completes_after_the_restart(funded, celery_workers, child_env, settings):
    tenant, wallet_id, op = run_crash(funded, celery_workers, child_env, settings, amount=30_000)

    with in_tenant(tenant):
        assert (op.status, op.compensated) == ("succeeded", False)
        assert balance(wallet_id) == (100_000 - 31_500, 0, 100_000 - 31_500)
        assert usage(wallet_id, "cash_out") == (30_000, 1)
        assert Payout.objects.filter(operation=op).count() == 1
        # Cash-in, capture and fee: one entry each, none twice.
        assert JournalEntry.objects.filter(external_ref__startswith=op.public_id).count() == 2
        report = ledger_verify()
        assert report.ok, report.problems
    connection.set_schema_to_public()


def test_a_cash_out_killed_after_its_hold_is_compensated_when_the_payout_fails(
    funded,
    celery_workers,
    child_env,
    settings,
):
    tenant, wallet_id, op = run_crash(funded, celery_workers, child_env, settings, amount=30_013)

    with in_tenant(tenant):
        assert (op.status, op.failure_code, op.compensated) == ("failed", "payout_failed", True)
        assert balance(wallet_id) == (100_000, 0, 100_000)
        assert usage(wallet_id, "cash_out") == (0, 0)
        assert JournalEntry.objects.filter(external_ref__startswith=op.public_id).count() == 0
        report = ledger_verify()
        assert report.ok, report.problems
    connection.set_schema_to_public()
