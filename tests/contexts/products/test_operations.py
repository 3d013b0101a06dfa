"""Around the workflows: a suspended tenant, the network refusing an off-us QR payment, the ledger
ceiling following a KYC upgrade, and operators resuming a saga from the admin."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection

from contexts.ledger import api as ledger_api
from contexts.products import api
from contexts.products.models import Operation
from contexts.products.workflows import wallet_account
from contexts.qrph.adapters.base import FAILED, NetworkResult
from contexts.qrph.codec import qrph_payload_build
from contexts.qrph.payments import qr_payment_network_result
from finfactory.audit.models import AuditRecord
from finfactory.outbox.drain import drain
from finfactory.tenancy.models import Domain

from .conftest import balance, ref, run, usage, verify
from .test_workflows import refused

FOREIGN = qrph_payload_build(scheme="p2m", bic="GXCHPHM2XXX", merchant_id="217020000054698716099", mcc="5814",
                             merchant_name="Other Bank Cafe", merchant_city="Taguig")  # fmt: skip


def test_a_suspended_tenant_moves_no_money(wallet, product):
    opened = wallet()
    connection.tenant.status = "suspended"
    try:
        refused("tenant_suspended", api.cash_in, wallet_id=opened.id, amount=1_000, currency="PHP", reference=ref())
    finally:
        connection.tenant.status = "active"


def test_a_qr_payment_the_network_refuses_releases_the_hold_and_the_limits(wallet, product):
    payer = wallet(50_000)
    pending = api.qr_payment(wallet_id=payer.id, payload=FOREIGN, amount=8_013, reference=ref())
    assert balance(payer.id) == (50_000, 8_013, 41_987)

    qr_payment_network_result(result=NetworkResult(pending.qr_payment_id, FAILED, "net-2", "network_declined"))
    drain()
    done = run(pending.id)

    assert (done.status, done.failure_code, done.compensated) == ("failed", "qr_payment_failed", True)
    assert balance(payer.id) == (50_000, 0, 50_000) and usage(payer.id, "transfer_out") == (0, 0)


def test_the_ledger_ceiling_follows_the_wallets_tier_when_kyc_is_upgraded(wallet, customer, product):
    customer_id = customer("none")
    opened = wallet(customer_id=customer_id)
    account = wallet_account(opened.id)
    starter_ceiling = ledger_api.account_get(account_id=account).max_balance

    verify(customer_id, "full")  # kyc.verified → wallets: wallet.limit.updated → products: the ceiling

    assert ledger_api.account_get(account_id=account).max_balance > starter_ceiling
    assert api.wallet_get(wallet_id=opened.id).kyc_level == "full"


def test_an_operator_resumes_an_unfinished_operation_from_the_admin(wallet, product, client):
    from contexts.products.adapters.base import SUCCEEDED, PayoutResult
    from contexts.products.models import Payout
    from contexts.products.payouts import payout_result_record

    opened = wallet(100_000)
    pending = api.cash_out(wallet_id=opened.id, amount=10_000, currency="PHP", reference=ref())
    payout_result_record(result=PayoutResult(Payout.objects.get(public_id=pending.payout_id).public_id, SUCCEEDED,
                                             "sandbox:y"))  # fmt: skip
    domain = f"{product.schema_name.replace('_', '-')}.admin.localhost"
    Domain.objects.get_or_create(domain=domain, tenant=product, defaults={"is_primary": True})
    operator = get_user_model().objects.create_user(username="ops", password=None, is_staff=True)
    operator.groups.add(Group.objects.get(name="Operator"))
    client.force_login(operator)
    op = Operation.objects.get(public_id=pending.id)

    listing = client.get("/admin/products/operation/", HTTP_HOST=domain)
    resumed = client.post("/admin/products/operation/", {"action": "resume", "_selected_action": [op.pk]},
                          HTTP_HOST=domain)  # fmt: skip

    assert listing.status_code == 200 and pending.id.encode() in listing.content
    assert resumed.status_code == 302
    assert Operation.objects.get(pk=op.pk).status == "succeeded"
    assert AuditRecord.objects.filter(action="operation.resumed", target_id=pending.id, actor="user:ops").exists()


@pytest.mark.parametrize("kind", ["cash_in", "cash_out", "transfer", "qr_payment"])
def test_every_money_operation_takes_a_reference(wallet, kind):
    opened, other = wallet(10_000), wallet()
    calls = {
        "cash_in": lambda: api.cash_in(wallet_id=opened.id, amount=1, currency="PHP", reference=None),
        "cash_out": lambda: api.cash_out(wallet_id=opened.id, amount=1, currency="PHP", reference=""),
        "transfer": lambda: api.transfer(
            source_wallet_id=opened.id, destination_wallet_id=other.id, amount=1, currency="PHP", reference="x" * 256
        ),
        "qr_payment": lambda: api.qr_payment(wallet_id=opened.id, payload=FOREIGN, amount=1, reference=""),
    }

    error = refused("validation_error", calls[kind])

    assert error.errors[0].field == "reference"
