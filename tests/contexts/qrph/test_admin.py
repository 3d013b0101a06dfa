"""QR Ph in the back office: configuration and merchants edited through the services (validated,
audited); codes and payments read-only."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from contexts.qrph import api
from contexts.qrph.models import MerchantProfile, QrphSettings
from finfactory.audit.models import AuditRecord
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant
from finfactory.tenancy.models import Domain

from .conftest import foreign_code, wallet_id

HOST = "qr.admin.localhost"


@pytest.fixture
def admin_client(module_tenant, db, client):
    Domain.objects.create(domain=HOST, tenant=module_tenant, is_primary=True)
    with in_tenant(module_tenant):
        user = get_user_model().objects.create_superuser(username="qr-admin", password=None, email="a@example.com")
        client.force_login(user)
    connection.set_schema_to_public()
    return client


def in_tenant_do(tenant, fn):
    with in_tenant(tenant), acting_as("system:test"):
        result = fn()
    connection.set_schema_to_public()
    return result


def test_staff_change_the_bic_through_the_service_and_a_bad_one_is_refused(admin_client, module_tenant):
    original = in_tenant_do(module_tenant, lambda: api.qrph_settings_get().bic)
    url = "/admin/qrph/qrphsettings/1/change/"

    refused = admin_client.post(url, {"bic": "BADBIC", "network": "sandbox"}, HTTP_HOST=HOST)
    saved = admin_client.post(url, {"bic": "ACMEPHMMXXX", "network": "sandbox"}, HTTP_HOST=HOST)

    assert (refused.status_code, saved.status_code) == (200, 302)
    assert b"Philippine BIC" in refused.content
    with in_tenant(module_tenant):
        assert QrphSettings.objects.get().bic == "ACMEPHMMXXX"
        record = AuditRecord.objects.get(action="qrph_settings.updated")
        assert (record.before["bic"], record.after["bic"]) == (original, "ACMEPHMMXXX")
    connection.set_schema_to_public()


def test_staff_add_a_merchant_through_the_service(admin_client, module_tenant):
    wallet = wallet_id()
    url = "/admin/qrph/merchantprofile/add/"
    fields = {"wallet_id": wallet, "scheme": "p2m", "name": "Kape Tayo", "city": "Makati", "mcc": "5812"}

    refused = admin_client.post(url, {**fields, "name": "Café"}, HTTP_HOST=HOST)
    saved = admin_client.post(url, fields, HTTP_HOST=HOST)

    assert (refused.status_code, saved.status_code) == (200, 302)
    with in_tenant(module_tenant):
        profile = MerchantProfile.objects.get()
        assert (profile.wallet_id, profile.name, len(profile.merchant_id)) == (wallet, "Kape Tayo", 15)
        assert AuditRecord.objects.filter(action="merchant_profile.created").count() == 1
    connection.set_schema_to_public()


def test_codes_and_payments_are_listed_read_only(admin_client, module_tenant):
    def make():
        profile = api.merchant_profile_create(wallet_id=wallet_id(), name="Kape", city="Makati", mcc="5812")
        code = api.qr_generate(merchant_profile_id=profile.id, amount=100)
        api.qr_payment_initiate(payer_wallet_id=wallet_id(), payload=code.payload, reference="adm-1")
        api.qr_payment_initiate(payer_wallet_id=wallet_id(), payload=foreign_code(), amount=5, reference="adm-2")
        return code

    code = in_tenant_do(module_tenant, make)

    codes = admin_client.get("/admin/qrph/qrcode/", HTTP_HOST=HOST)
    payments = admin_client.get("/admin/qrph/qrpayment/", HTTP_HOST=HOST)
    adding = admin_client.get("/admin/qrph/qrpayment/add/", HTTP_HOST=HOST)

    assert (codes.status_code, payments.status_code, adding.status_code) == (200, 200, 403)
    assert code.id.encode() in codes.content
    assert payments.content.count(b"qrp_") >= 2
