"""Webhooks test fixtures: a tenant to work in (provisioned once per module, rolled back), an API
client on the test URLs, and what a failure path must leave untouched."""

import pytest
from django.db import connection, transaction

from contexts.webhooks.models import WebhookEndpoint
from finfactory.audit.models import AuditRecord
from finfactory.outbox.models import OutboxEvent
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant
from tests.factories import provision_tenant
from tests.helpers import api_client

URLS = "config.urls_tenant"  # the product API as deployed
ENDPOINTS = "/v1/webhook-endpoints"


@pytest.fixture(scope="module")
def module_tenant(django_db_setup, django_db_blocker):
    """One tenant (and its all-scopes API key) for the module, inside a transaction rolled back
    when the module ends; each test runs in a savepoint of it (the `db` fixture)."""
    with django_db_blocker.unblock(), transaction.atomic():
        provisioned = provision_tenant("whk")
        connection.set_schema_to_public()
        yield provisioned
        connection.set_schema_to_public()
        transaction.set_rollback(True)


@pytest.fixture
def webhooks(db, module_tenant):
    """Run the test in the module tenant's schema."""
    with in_tenant(module_tenant.tenant), acting_as("system:test", request_id="req_webhooks_test"):
        yield module_tenant.tenant
    connection.set_schema_to_public()


@pytest.fixture
def rest(db, module_tenant):
    """The module tenant's API client (every scope)."""
    yield api_client(module_tenant.api_key.secret)
    connection.set_schema_to_public()


def written(tenant) -> dict:
    """What a refused request must not change, read in the tenant's schema."""
    with in_tenant(tenant):
        return {
            "endpoints": list(WebhookEndpoint.objects.order_by("id").values_list("public_id", "enabled", "deleted_at")),
            "events": OutboxEvent.objects.count(),
            "audit": AuditRecord.objects.count(),
        }


def raw_row(tenant, public_id: str) -> str:
    """The endpoint's row as the database holds it (every column as JSON text)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT row_to_json(e)::text FROM "{tenant.schema_name}".webhooks_webhookendpoint e WHERE public_id = %s',
            [public_id],
        )
        return cursor.fetchone()[0]
