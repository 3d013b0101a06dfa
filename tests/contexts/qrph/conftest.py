"""QR Ph test fixtures: a tenant to work in (provisioned once per module, rolled back), merchant
profiles, foreign codes, and what a failure path must leave untouched."""

import itertools
import uuid

import pytest
import redis
from django.db import connection, transaction

from contexts.qrph import api
from contexts.qrph.codec import qrph_payload_build
from contexts.qrph.models import MerchantProfile, QrCode, QrPayment, QrphSettings
from finfactory.audit.models import AuditRecord
from finfactory.ids import new_id
from finfactory.outbox.models import OutboxEvent
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant
from tests.factories import provision_tenant
from tests.system.conftest import celery_workers, child_env  # noqa: F401 - fixtures for the worker tests

_refs = itertools.count(1)
FOREIGN_BIC = "GXCHPHM2XXX"


def ref(prefix: str = "qrpay") -> str:
    return f"{prefix}-{next(_refs)}"


def wallet_id() -> str:
    return new_id("wal")


def foreign_code(amount: int | None = None, merchant_id: str = "217020000054698716099") -> str:
    """A QR Ph code of another institution (off-us for every test tenant)."""
    return qrph_payload_build(
        scheme="p2m", bic=FOREIGN_BIC, merchant_id=merchant_id, mcc="5814", merchant_name="Other Bank Cafe",
        merchant_city="Taguig", amount=amount, reference_label=uuid.uuid4().hex[:20] if amount else None,
    )  # fmt: skip


@pytest.fixture(scope="module")
def module_tenant(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        tenant = provision_tenant("qrph").tenant
        connection.set_schema_to_public()
        yield tenant
        connection.set_schema_to_public()
        transaction.set_rollback(True)


@pytest.fixture
def qrph(db, module_tenant, settings):
    """Run the test in the tenant's schema; qrph's tasks go to a queue no worker reads."""
    queue = f"qrph-unconsumed-{uuid.uuid4().hex[:8]}"
    settings.QRPH_QUEUE = queue
    with in_tenant(module_tenant), acting_as("system:test", request_id="req_qrph_test"):
        yield module_tenant
    connection.set_schema_to_public()
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(queue)
    client.close()


@pytest.fixture
def merchant(qrph):
    """merchant(**fields) creates a merchant profile for a new wallet through the api."""

    def make(**fields):
        values = {"wallet_id": wallet_id(), "name": "Kape Tayo", "city": "Makati", "mcc": "5812", **fields}
        return api.merchant_profile_create(**values)

    return make


def written() -> dict:
    return {
        "settings": list(QrphSettings.objects.values("bic", "network")),
        "merchants": list(MerchantProfile.objects.order_by("id").values("public_id", "name", "city", "mcc")),
        "codes": QrCode.objects.count(),
        "payments": list(QrPayment.objects.order_by("id").values("public_id", "status", "updated_at")),
        "events": OutboxEvent.objects.count(),
        "audit": AuditRecord.objects.count(),
    }


def events(type_prefix: str = "qr.") -> list[tuple[str, str, dict]]:
    rows = OutboxEvent.objects.filter(type__startswith=type_prefix).order_by("id")
    return [(row.type, row.aggregate_id, row.data) for row in rows]
