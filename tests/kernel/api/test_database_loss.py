"""A database connection lost outside a DRF view — in tenant routing, the first query of every
request — is a 503 problem+json like one lost inside a view, never a 500."""

import psycopg
import pytest
from django.db import connection

from tests.helpers import api_client, problem


@pytest.fixture
def connection_without_health_check(transactional_db, monkeypatch):
    """The request's connection, open, with Django's per-request health check off: so that a
    backend terminated now is found dead by the request's first query (tenant routing), as when
    PostgreSQL goes away between the health check and that query."""
    connection.ensure_connection()
    monkeypatch.setattr(connection, "health_check_enabled", False)
    yield connection
    connection.close()


def _terminate(pid: int) -> None:
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], autocommit=True
    ) as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]


def test_a_connection_lost_in_tenant_routing_is_a_503_problem_with_retry_after(connection_without_health_check):
    _terminate(connection_without_health_check.connection.info.backend_pid)

    client = api_client("ff_test_" + "x" * 40)
    client.raise_request_exception = False  # answer as a server would, not re-raise into the test

    response = client.get("/v1/customers", HTTP_HOST="api.example.com")

    body = problem(response, 503, "service_unavailable")
    assert response["Retry-After"] == "1"
    assert "nothing was changed" in body["detail"]
