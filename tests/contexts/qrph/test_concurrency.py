"""Race safety on committed data, one connection per thread: a dynamic code is paid exactly once
and a reference makes exactly one payment, however many requests arrive together."""

from collections import Counter

from django.db import connection

from contexts.qrph import api
from contexts.qrph.models import QrPayment
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant
from tests.helpers import in_parallel as run_in_parallel

from .conftest import wallet_id

WORKERS = 12


def in_parallel(tenant, work) -> Counter:
    return run_in_parallel(tenant, work, workers=WORKERS)


def test_concurrent_payments_of_one_dynamic_code_accept_exactly_one(committed_tenants):
    tenant = committed_tenants("qrr").tenant
    with in_tenant(tenant), acting_as("system:test"):
        profile = api.merchant_profile_create(wallet_id=wallet_id(), name="Race Cafe", city="Pasig", mcc="5812")
        code = api.qr_generate(merchant_profile_id=profile.id, amount=300_00)
    connection.set_schema_to_public()

    outcomes = in_parallel(
        tenant,
        lambda i: (
            api.qr_payment_initiate(payer_wallet_id=wallet_id(), payload=code.payload, reference=f"race-{i}").status
        ),
    )

    assert outcomes == Counter({"pending": 1, "qr_already_paid": WORKERS - 1})
    with in_tenant(tenant):
        assert QrPayment.objects.filter(qr_code__public_id=code.id).count() == 1
    connection.set_schema_to_public()


def test_concurrent_requests_with_one_reference_make_one_payment(committed_tenants):
    tenant = committed_tenants("qri").tenant
    with in_tenant(tenant), acting_as("system:test"):
        profile = api.merchant_profile_create(wallet_id=wallet_id(), name="Race Cafe", city="Pasig", mcc="5812")
        code = api.qr_generate(merchant_profile_id=profile.id)
    connection.set_schema_to_public()
    who = wallet_id()

    outcomes = in_parallel(
        tenant,
        lambda i: (
            api.qr_payment_initiate(
                payer_wallet_id=who, payload=code.payload, amount=45_00, reference="same-ref"
            ).replayed
        ),
    )

    assert outcomes == Counter({False: 1, True: WORKERS - 1})
    with in_tenant(tenant):
        assert QrPayment.objects.count() == 1
    connection.set_schema_to_public()
