"""Orchestration test fixtures: a tenant per product template (provisioned once per module, rolled
back), customers at a KYC level, wallets opened and funded through the product, and what a
refused operation must leave untouched."""

import itertools
import uuid

import pytest
import redis
from django.db import connection, transaction

from contexts.fraud import services as fraud_services
from contexts.identity import api as identity_api
from contexts.identity import kyc as identity_kyc
from contexts.ledger import api as ledger_api
from contexts.ledger.models import Hold, JournalEntry
from contexts.products import api
from contexts.products.models import Operation
from contexts.products.saga import operation_run
from contexts.products.workflows import WORKFLOWS, wallet_account
from contexts.qrph import api as qrph_api
from contexts.wallets.models import LimitReservation, LimitUsage
from finfactory.audit.models import AuditRecord
from finfactory.outbox.drain import drain
from finfactory.outbox.models import OutboxEvent
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant
from finfactory.tenancy.models import Tenant
from tests.factories import provision_tenant
from tests.system.conftest import celery_workers, child_env  # noqa: F401 - fixtures for the crash tests

_refs = itertools.count(1)


def ref(prefix: str = "op") -> str:
    return f"{prefix}-{next(_refs)}-{uuid.uuid4().hex[:6]}"


def tenant_with_template(django_db_blocker, template: str):
    """A module's tenant on `template`; a module overrides `module_tenant` with it."""
    with django_db_blocker.unblock(), transaction.atomic():
        tenant = provision_tenant("prd", template=template).tenant
        connection.set_schema_to_public()
        yield tenant
        connection.set_schema_to_public()
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def module_tenant(django_db_setup, django_db_blocker):
    yield from tenant_with_template(django_db_blocker, "stored_value_wallet")


@pytest.fixture
def unconsumed_queues(settings):
    """The primitives' tasks go to queues no worker reads (emptied afterwards): the tests drive
    the outside world's answers themselves."""
    name = f"products-unconsumed-{uuid.uuid4().hex[:8]}"
    for setting in ("PRODUCTS_QUEUE", "QRPH_QUEUE", "IDENTITY_QUEUE"):
        setattr(settings, setting, name)
    yield name
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(name)
    client.close()


@pytest.fixture
def product(db, module_tenant, unconsumed_queues):
    """Run the test inside the tenant's schema, in the test's transaction."""
    if not Tenant.objects.filter(pk=module_tenant.pk).exists():
        Tenant.objects.bulk_create([module_tenant])
    with in_tenant(module_tenant), acting_as("system:test", request_id="req_products_test"):
        yield module_tenant
    connection.set_schema_to_public()


def verify(customer_id: str, level: str = "basic") -> None:
    """The customer verified at `level`, and every context told (the outbox drained)."""
    status = identity_api.kyc_submit(customer_id=customer_id, id_type="passport", id_number=f"P{uuid.uuid4().hex[:9]}",
                                     level=level)  # fmt: skip
    identity_kyc.kyc_verify(kyc_id=status.kyc_id, level=level)
    drain()


@pytest.fixture
def customer(product):
    """customer(level="none") → a customer id, verified at `level`."""

    def make(level: str = "none") -> str:
        created = identity_api.customer_create(first_name="Test", last_name="Customer",
                                               email=f"c{next(_refs)}@example.org")  # fmt: skip
        if level != "none":
            verify(created.id, level)
        return created.id

    return make


@pytest.fixture
def wallet(customer):
    """wallet(balance=0, level="basic") → a wallet opened through the product, funded by cash-in."""

    def make(balance: int = 0, level: str = "basic", customer_id: str | None = None):
        opened = api.wallet_open(customer_id=customer_id or customer(level), currency="PHP")
        if balance:
            api.cash_in(wallet_id=opened.id, amount=balance, currency="PHP", reference=ref("fund"))
        return opened

    return make


@pytest.fixture
def merchant(wallet):
    """merchant(mcc="5814") → (the merchant's wallet, its static QR payload)."""

    def make(mcc: str = "5814"):
        shop = wallet()
        profile = qrph_api.merchant_profile_create(wallet_id=shop.id, name="Corner Shop", city="Makati", mcc=mcc)
        return shop, qrph_api.qr_generate(merchant_profile_id=profile.id).payload

    return make


@pytest.fixture
def fraud_rule(product):
    """fraud_rule(action, min_amount) → an amount rule that declines or sends to review."""

    def make(action: str, min_amount: int):
        return fraud_services.rule_version_create(
            code=f"test-{action}-{next(_refs)}", name="test", kind="amount_threshold", action=action, weight=0,
            params={"currency": "PHP", "min_amount": min_amount}, reason="test",
        )  # fmt: skip

    return make


def balance(wallet_id: str) -> tuple[int, int, int]:
    found = api.balance_get(wallet_id=wallet_id)
    return found.posted, found.held, found.available


def system_balance(code: str) -> int:
    return ledger_api.system_account(code=code, currency="PHP").posted


def usage(wallet_id: str, kind: str) -> tuple[int, int]:
    row = LimitUsage.objects.get(wallet__public_id=wallet_id, kind=kind)
    return row.day_amount, row.day_count


def writes() -> dict[str, int]:
    """What a refused operation must leave untouched."""
    return {
        "operations": Operation.objects.count(),
        "entries": JournalEntry.objects.count(),
        "holds": Hold.objects.count(),
        "reservations": LimitReservation.objects.filter(status="reserved").count(),
        "events": OutboxEvent.objects.count(),
        "audit": AuditRecord.objects.count(),
    }


def run(operation_id: str):
    """What the advance task does: run the operation's next steps."""
    return operation_run(operation_id, WORKFLOWS)


__all__ = ["balance", "ref", "run", "system_balance", "usage", "wallet_account", "writes"]
