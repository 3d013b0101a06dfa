"""Wallets test fixtures: a tenant whose tier schedule is seeded, and helpers to count writes."""

import itertools

import pytest
from django.db import connection, transaction

from contexts.wallets import api
from contexts.wallets.models import LimitReservation, LimitUsage, Tier, Wallet
from finfactory.audit.models import AuditRecord
from finfactory.outbox.models import OutboxEvent
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant
from tests.factories import provision_tenant

from .factories import WalletFactory, schedule

_refs = itertools.count(1)


def ref(prefix: str = "mv") -> str:
    return f"{prefix}-{next(_refs)}"


@pytest.fixture(scope="module")
def module_tenant(django_db_setup, django_db_blocker):
    """One stored_value_wallet tenant for all the tests of a module, provisioned once inside a
    transaction that is rolled back when the module ends (what TestCase.setUpTestData does).
    Each test runs in a savepoint of it (the `db` fixture), so nothing a test writes — nor the
    tenant itself — is ever committed, and a tenant is cloned once per module, not per test."""
    with django_db_blocker.unblock(), transaction.atomic():
        tenant = provision_tenant("wal").tenant
        connection.set_schema_to_public()
        yield tenant
        connection.set_schema_to_public()
        transaction.set_rollback(True)


@pytest.fixture
def tenant(db, module_tenant):
    return module_tenant


@pytest.fixture
def wallets(tenant):
    """Run the test inside the tenant's schema; the test seeds the tier schedule (rolled back)."""
    with in_tenant(tenant), acting_as("system:test", request_id="req_wallets_test"):
        api.tiers_get()
        yield tenant
    connection.set_schema_to_public()


@pytest.fixture
def limits(wallets):
    """The tenant's schedule replaced by the factories' (bronze/silver/gold, PHP, Asia/Manila);
    limits(cash_in={...}, ...) sets the silver (KYC basic) tier's flows."""

    def configure(**basic_flows):
        return api.tiers_configure(schedule=schedule(**basic_flows), reason="test limits")

    configure()
    return configure


@pytest.fixture
def wallet(wallets):
    """wallet(**fields) opens a wallet through the api (a new customer unless customer_id is given)."""
    return WalletFactory


def writes() -> dict[str, int]:
    """How many rows of each kind a failure path must leave untouched."""
    return {
        "wallets": Wallet.objects.count(),
        "usage": LimitUsage.objects.count(),
        "reservations": LimitReservation.objects.count(),
        "tiers": Tier.objects.count(),
        "events": OutboxEvent.objects.count(),
        "audit": AuditRecord.objects.count(),
    }


def usage(wallet_id: str, kind: str) -> tuple:
    row = LimitUsage.objects.get(wallet__public_id=wallet_id, kind=kind)
    return (row.day, row.day_amount, row.day_count, row.month, row.month_amount, row.month_count)
