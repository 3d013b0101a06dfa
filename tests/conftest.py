"""Shared fixtures. Tests run against real PostgreSQL and Redis (see README, `make test`)."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.db import connection

from finfactory.tenancy.schemas import template_schema_migrate, tenant_schema_drop
from tests.factories import provision_tenant


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """After pytest-django migrated the public schema: the template schema tenants clone from.

    Tests that commit (transactional_db) are cleaned up by TRUNCATE of the public tables, which
    the append-only audit trail refuses by design; in the test database only, the public table's
    TRUNCATE guard is dropped (UPDATE/DELETE stay refused, and tenant schemas keep every guard).
    """
    with django_db_blocker.unblock():
        template_schema_migrate()
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS audit_record_refuse_truncate ON public.audit_record")


@pytest.fixture
def db_access(django_db_blocker):
    """Database access outside a test transaction, for tests that break the connection on purpose."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def closed_port() -> int:
    """A loopback TCP port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def make_tenant(db):
    """Provision tenants inside the test transaction (their schemas roll back with it)."""

    def make(prefix: str = "t", **kwargs):
        provisioned = provision_tenant(prefix, **kwargs)
        connection.set_schema_to_public()
        return provisioned

    yield make
    connection.set_schema_to_public()


@pytest.fixture
def tenant(make_tenant):
    return make_tenant("acme").tenant


@pytest.fixture
def committed_tenants(transactional_db):
    """Provision committed tenants (for live servers and other processes); dropped afterwards."""
    created = []

    def make(prefix: str = "t", **kwargs):
        provisioned = provision_tenant(prefix, **kwargs)
        created.append(provisioned.tenant.schema_name)
        connection.set_schema_to_public()
        return provisioned

    yield make
    connection.set_schema_to_public()
    for schema in created:
        tenant_schema_drop(schema)


@pytest.fixture
def api_server(transactional_db, closed_port):
    """The API served by gunicorn (as in production) on loopback, over this test's database."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "HOST": "127.0.0.1",
        "PORT": str(closed_port),
        "WEB_CONCURRENCY": "2",
        "WEB_THREADS": "16",
        "DB_CONN_MAX_AGE": "0",
    }
    root = Path(__file__).resolve().parents[1]
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "config.wsgi", "-c", "config/gunicorn.py"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{closed_port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"{url}/healthz", timeout=5).status_code == 200:
                break
        except requests.RequestException:  # not listening yet, or workers still loading
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            os.killpg(server.pid, signal.SIGKILL)
            raise RuntimeError("gunicorn did not come up")
        time.sleep(0.1)
    yield url
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)
