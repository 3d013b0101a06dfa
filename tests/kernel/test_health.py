import json

import pytest
from django.db import connection

pytestmark = pytest.mark.usefixtures("db_access")


@pytest.mark.parametrize("host", ["127.0.0.1", "10.1.2.3:8000", "unknown.example", "evil host!"])
def test_healthz_answers_whatever_the_host_header(client, host):
    response = client.get("/healthz", HTTP_HOST=host)

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["X-Request-Id"]


def test_readyz_is_200_when_database_redis_and_broker_answer(client):
    response = client.get("/readyz", HTTP_HOST="unknown.example")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "redis": True,
        "broker": True,
    }


def test_readyz_stays_200_but_reports_redis_and_broker_down_as_degraded(client, settings, closed_port):
    """The API moves money without Redis (tests/system/test_faults.py): readiness must not take
    every web process out of the load balancer, but it says what is down."""
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port}/0"
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port}/0"
    settings.READINESS_TIMEOUT_SECONDS = 0.5

    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["degraded"]) == ("degraded", ["broker", "redis"])
    assert body["checks"]["database"]["ok"] is True
    assert "ConnectionError" in body["checks"]["redis"]["error"]
    assert "outbox" in body["detail"]


def test_readyz_is_503_naming_the_database_when_it_is_unreachable(client, closed_port):
    original_port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(closed_port)
    try:
        response = client.get("/readyz")
    finally:
        connection.close()
        connection.settings_dict["PORT"] = original_port

    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["failed"] == ["database"]
    assert "OperationalError" in body["checks"]["database"]["error"]
    # The connection recovers for the next request once the database is back.
    assert client.get("/readyz").status_code == 200


def test_probes_refuse_other_methods_than_get_and_head(client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code != 200
