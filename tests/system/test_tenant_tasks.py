"""Celery tasks run in the schema of the tenant that queued them (real worker, real broker)."""

import subprocess
import uuid

import pytest
import redis
from django.conf import settings
from django.db import connection

from finfactory.tenancy.context import in_public_schema, in_tenant
from tests.system.tenant_tasks import report_schema

from .conftest import ROOT, VENV_BIN, wait_for

pytestmark = pytest.mark.system


def test_a_task_runs_in_the_schema_of_whoever_queued_it(committed_tenants, child_env):
    first, second = committed_tenants("qa").tenant, committed_tenants("qb").tenant
    queue = f"test-{uuid.uuid4().hex}"
    db = connection.settings_dict
    worker = subprocess.Popen(
        [
            str(VENV_BIN / "celery"),
            "-A",
            "config",
            "worker",
            "-I",
            "tests.system.tenant_tasks",
            "-Q",
            queue,
            "-n",
            f"{queue}@localhost",
            "--pool",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env={
            **child_env,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        },
    )
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
        worker.terminate()
        worker.wait(timeout=30)
        client.close()

    assert seen == {"first": first.schema_name, "second": second.schema_name, "public": "public"}
