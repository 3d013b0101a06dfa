"""Fraud test fixtures: a tenant (provisioned once per module, rolled back), movements to score,
rules, and what a failure path must leave untouched."""

import itertools
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from contexts.fraud import services
from contexts.fraud.models import Assessment, BlockListEntry, KnownCustomer, KnownDevice, ReviewCase, Rule
from finfactory.audit.models import AuditRecord
from finfactory.ids import new_id
from finfactory.outbox.models import OutboxEvent
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant
from finfactory.tenancy.models import Tenant
from tests.factories import provision_tenant

_refs = itertools.count(1)


def ref(prefix: str = "mv") -> str:
    return f"{prefix}-{next(_refs)}"


@pytest.fixture(scope="module")
def module_tenant(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        tenant = provision_tenant("frd").tenant
        connection.set_schema_to_public()
        yield tenant
        connection.set_schema_to_public()
        transaction.set_rollback(True)


@pytest.fixture
def fraud(db, module_tenant):
    """Run the test inside the tenant's schema, in the test's transaction."""
    with in_tenant(module_tenant), acting_as("system:test", request_id="req_fraud_test"):
        yield module_tenant
    connection.set_schema_to_public()


@pytest.fixture
def tenant_row(fraud):
    """The module's tenant row, visible to code that looks tenants up (e.g. the admin's host)."""
    if not Tenant.objects.filter(pk=fraud.pk).exists():
        Tenant.objects.bulk_create([fraud])
    return fraud


class Customer:
    """A customer with a wallet; move(**overrides) returns the keyword arguments of api.score."""

    def __init__(self):
        self.customer_id = new_id("cus")
        self.wallet_id = new_id("wal")

    def move(self, **overrides) -> dict:
        return {
            "reference": ref(),
            "customer_id": self.customer_id,
            "wallet_id": self.wallet_id,
            "movement_type": "transfer",
            "amount": 10_000,
            "currency": "PHP",
            "channel": "app",
            **overrides,
        }


@pytest.fixture
def customer(fraud):
    return Customer


@pytest.fixture
def rule(fraud):
    """rule(kind, params, action=..., weight=..., code=...) creates a rule in force from an hour ago."""

    def make(kind: str, params: dict, *, action: str = "decline", weight: int = 100, code: str | None = None, **kw):
        return services.rule_version_create(
            code=code or f"{kind.replace('_', '-')}-{next(_refs)}",
            name=f"test {kind}",
            kind=kind,
            params=params,
            action=action,
            weight=weight,
            reason="test rule",
            effective_from=kw.pop("effective_from", timezone.now() - timedelta(hours=1)),
            **kw,
        )

    return make


def writes() -> dict[str, int]:
    """How many rows of each kind a refused call must leave untouched."""
    return {
        "assessments": Assessment.objects.count(),
        "cases": ReviewCase.objects.count(),
        "customers": KnownCustomer.objects.count(),
        "devices": KnownDevice.objects.count(),
        "rules": Rule.objects.count(),
        "blocks": BlockListEntry.objects.count(),
        "events": OutboxEvent.objects.count(),
        "audit": AuditRecord.objects.count(),
    }


def events(since_id: int = 0) -> list[tuple[str, dict]]:
    return [(e.type, e.data) for e in OutboxEvent.objects.filter(id__gt=since_id).order_by("id")]


def last_event_id() -> int:
    return OutboxEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
