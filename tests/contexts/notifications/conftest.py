"""Notification test fixtures: a tenant provisioned once per module (rolled back), send tasks on a
queue no worker reads, and events built as the outbox hands them to subscribers."""

import uuid
from datetime import UTC, datetime

import pytest
import redis
from django.db import connection, transaction

from finfactory.events.subscribers import Event
from finfactory.ids import new_id
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant
from tests.factories import provision_tenant


@pytest.fixture(scope="module")
def module_tenant(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        tenant = provision_tenant("notify").tenant
        connection.set_schema_to_public()
        yield tenant
        connection.set_schema_to_public()
        transaction.set_rollback(True)


@pytest.fixture
def notify(db, module_tenant, settings, mailoutbox):
    queue = f"notifications-unconsumed-{uuid.uuid4().hex[:8]}"
    settings.NOTIFICATIONS_QUEUE = queue
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 5
    settings.NOTIFICATIONS_BACKOFF_BASE_SECONDS = 10.0
    settings.NOTIFICATIONS_BACKOFF_MAX_SECONDS = 3600.0
    settings.NOTIFICATIONS_MONEY_OUT_THRESHOLDS = {"PHP": 100_000}
    with in_tenant(module_tenant), acting_as("system:test", request_id="req_notify_test"):
        yield module_tenant
    connection.set_schema_to_public()
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(queue)
    client.close()


def customer_id() -> str:
    return new_id("cus")


def wallet_id() -> str:
    return new_id("wal")


def event(type: str, data: dict, aggregate_id: str = "agg_1") -> Event:
    return Event(
        id=new_id("evt"), type=type, version=1, tenant=connection.schema_name,
        occurred_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC), aggregate_type=type.split(".")[0],
        aggregate_id=aggregate_id, sequence=1, data=data, request_id="req_notify_test", actor="system:test",
    )  # fmt: skip


def operation(kind: str, wallet: str, amount: int, counterparty: str | None = None) -> dict:
    prefix = {"cash_in": "cin", "cash_out": "cout", "transfer": "trf", "qr_payment": "qrp"}[kind]
    return {
        "operation_id": f"{prefix}_{'0' * 26}", "kind": kind, "status": "succeeded", "wallet_id": wallet,
        "counterparty_wallet_id": counterparty, "amount": amount, "fee": 0, "currency": "PHP",
        "transaction_id": "txn_1", "failure_code": None,
    }  # fmt: skip
