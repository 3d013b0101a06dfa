"""healthcare_benefits_wallet: pays only merchants of allowed health categories, in every flow."""

import pytest

from contexts.products import api
from contexts.qrph.codec import qrph_payload_build

from .conftest import balance, ref, tenant_with_template
from .test_workflows import refused


@pytest.fixture(scope="module")
def module_tenant(django_db_setup, django_db_blocker):
    yield from tenant_with_template(django_db_blocker, "healthcare_benefits_wallet")


def foreign(mcc: str) -> str:
    return qrph_payload_build(scheme="p2m", bic="GXCHPHM2XXX", merchant_id="217020000054698716099", mcc=mcc,
                              merchant_name="Other Bank Merchant", merchant_city="Taguig")  # fmt: skip


def test_it_pays_a_pharmacy_and_a_clinic_of_any_institution(wallet, merchant):
    payer = wallet(50_000)
    pharmacy, payload = merchant(mcc="5912")
    clinic, clinic_payload = merchant(mcc="8011")

    by_qr = api.qr_payment(wallet_id=payer.id, payload=payload, amount=2_500, reference=ref())
    at_clinic = api.qr_payment(wallet_id=payer.id, payload=clinic_payload, amount=4_000, reference=ref())
    off_us = api.qr_payment(wallet_id=payer.id, payload=foreign("8062"), amount=1_000, reference=ref())

    assert (by_qr.status, at_clinic.status, off_us.status) == ("succeeded", "succeeded", "pending")
    assert (balance(pharmacy.id)[0], balance(clinic.id)[0]) == (2_500, 4_000)


def test_it_refuses_a_restaurant_of_any_institution_a_person_and_a_cash_out(wallet, merchant, product):
    payer, friend = wallet(50_000), wallet()
    clinic, _ = merchant(mcc="8011")
    _, payload = merchant(mcc="5814")

    refused("payee_not_allowed", api.qr_payment, wallet_id=payer.id, payload=payload, amount=1_000, reference=ref())
    refused("payee_not_allowed", api.qr_payment, wallet_id=payer.id, payload=foreign("5814"), amount=1_000,
            reference=ref())  # fmt: skip
    # Benefits are spent at merchants, never sent to people or paid out: the product offers neither.
    refused("feature_not_available", api.transfer, source_wallet_id=payer.id, destination_wallet_id=friend.id,
            amount=1_000, currency="PHP", reference=ref())  # fmt: skip
    refused("feature_not_available", api.cash_out, wallet_id=payer.id, amount=1_000, currency="PHP", reference=ref())
    # And a tenant that turns transfers on still pays only merchants of the allowed categories.
    from contexts.products.configuration import product_config_override

    product_config_override(overrides={"features": {"transfers": True}}, reason="pay clinics by wallet")
    refused("payee_not_allowed", api.transfer, source_wallet_id=payer.id, destination_wallet_id=friend.id,
            amount=1_000, currency="PHP", reference=ref())  # fmt: skip
    assert api.transfer(source_wallet_id=payer.id, destination_wallet_id=clinic.id, amount=1_000, currency="PHP",
                        reference=ref()).status == "succeeded"  # fmt: skip
