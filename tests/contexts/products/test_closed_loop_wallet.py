"""closed_loop_wallet: a wallet that pays only the tenant's own merchants, in every flow."""

import pytest

from contexts.products import api
from contexts.qrph.codec import qrph_payload_build

from .conftest import balance, ref, tenant_with_template
from .test_workflows import refused


@pytest.fixture(scope="module")
def module_tenant(django_db_setup, django_db_blocker):
    yield from tenant_with_template(django_db_blocker, "closed_loop_wallet")


def test_it_pays_the_tenants_merchant_by_qr_and_by_transfer(wallet, merchant):
    payer = wallet(50_000)
    shop, payload = merchant()

    by_qr = api.qr_payment(wallet_id=payer.id, payload=payload, amount=10_000, reference=ref())
    by_transfer = api.transfer(source_wallet_id=payer.id, destination_wallet_id=shop.id, amount=5_000,
                               currency="PHP", reference=ref())  # fmt: skip

    assert (by_qr.status, by_transfer.status) == ("succeeded", "succeeded")
    assert balance(shop.id)[0] == 15_000


def test_it_refuses_to_pay_another_customer_or_another_institution(wallet):
    payer, friend = wallet(50_000), wallet()
    foreign = qrph_payload_build(scheme="p2m", bic="GXCHPHM2XXX", merchant_id="217020000054698716099", mcc="5814",
                                 merchant_name="Other Bank Cafe", merchant_city="Taguig")  # fmt: skip

    refused("payee_not_allowed", api.transfer, source_wallet_id=payer.id, destination_wallet_id=friend.id,
            amount=1_000, currency="PHP", reference=ref())  # fmt: skip
    refused("payee_not_allowed", api.qr_payment, wallet_id=payer.id, payload=foreign, amount=1_000, reference=ref())


def test_it_offers_no_cash_out(wallet):
    holder = wallet(50_000)

    refused("feature_not_available", api.cash_out, wallet_id=holder.id, amount=1_000, currency="PHP", reference=ref())
