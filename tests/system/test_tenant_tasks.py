"""Celery tasks run in the schema of the tenant that queued them (real worker, real broker)."""

import uuid

import pytest
import redis
from django.conf import settings

from finfactory.tenancy.context import in_public_schema, in_tenant
from tests.system.tenant_tasks import report_schema

from .conftest import wait_for

pytestmark = pytest.mark.system


def test_a_task_runs_in_the_schema_of_whoever_queued_it(committed_tenants, celery_workers):
    first, second = committed_tenants("qa").tenant, committed_tenants("qb").tenant
    celery_workers(include="tests.system.tenant_tasks")
    queue = celery_workers.queue
    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = {name: f"ff:test:{uuid.uuid4().hex}" for name in ("first", "second", "public")}
    try:
        with in_tenant(first):
            report_schema.apply_async(args=[keys["first"]], queue=queue)
        with in_tenant(second):
            report_schema.apply_async(args=[keys["second"]], queue=queue)
        with in_public_schema():
            report_schema.apply_async(args=[keys["public"]], queue=queue)

        seen = wait_for(
            lambda: all(client.get(k) for k in keys.values()) and {n: client.get(k).decode() for n, k in keys.items()},
            seconds=60,
            what="the worker to run three tasks",
        )
    finally:
        client.close()

    assert seen == {"first": first.schema_name, "second": second.schema_name, "public": "public"}
