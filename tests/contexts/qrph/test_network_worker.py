"""The sandbox QR Ph network end to end: real Celery worker processes over the Redis broker
(never eager mode) submit off-us payments and settle them after the configured delay."""

import time

import pytest
from django.db import transaction

from contexts.qrph import api
from finfactory.outbox.models import OutboxEvent
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant
from tests.system.conftest import wait_for

from .conftest import foreign_code, wallet_id


@pytest.mark.system
def test_real_workers_settle_off_us_payments_as_the_centavos_steer(committed_tenants, celery_workers, settings):
    settings.QRPH_QUEUE = settings.OUTBOX_QUEUE = celery_workers.queue
    tenant = committed_tenants("qrw").tenant
    celery_workers(QRPH_QUEUE=celery_workers.queue, QRPH_SANDBOX_SETTLE_SECONDS="1.5")
    with in_tenant(tenant), acting_as("system:test"):
        with transaction.atomic():
            good = api.qr_payment_initiate(
                payer_wallet_id=wallet_id(), payload=foreign_code(), amount=1_000_00, reference="w-good"
            )
            bad = api.qr_payment_initiate(
                payer_wallet_id=wallet_id(), payload=foreign_code(amount=20_13), reference="w-bad"
            )
        initiated_at = time.monotonic()
        assert (good.status, bad.status) == ("pending", "pending")

    def decided():
        with in_tenant(tenant):
            found = (api.qr_payment_status(payment_id=good.id), api.qr_payment_status(payment_id=bad.id))
        return found if all(p.status != "pending" for p in found) else None

    confirmed, failed = wait_for(decided, seconds=60, what="the sandbox network results")
    waited = time.monotonic() - initiated_at

    assert (confirmed.status, failed.status, failed.failure_reason) == ("confirmed", "failed", "network_declined")
    assert waited >= 1.0  # not before the configured delay
    assert confirmed.network_reference.startswith(f"sandbox:{good.id}:confirmed:")
    with in_tenant(tenant):
        types = set(OutboxEvent.objects.values_list("type", "aggregate_id"))
    assert {("qr.payment.confirmed", good.id), ("qr.payment.failed", bad.id)} <= types
