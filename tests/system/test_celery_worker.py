"""A real Celery worker process consumes tasks from the Redis broker with our app configuration."""

import pytest
import redis
from django.conf import settings

from config.celery import app
from finfactory.observability.heartbeat import HEARTBEAT_KEY, worker_heartbeat_age

from .conftest import wait_for

pytestmark = [pytest.mark.system, pytest.mark.usefixtures("db_access")]


def test_a_worker_runs_the_heartbeat_task_and_readyz_reports_it(celery_workers, client):
    celery_workers()
    node = f"{celery_workers.queue}-0@localhost"
    client_redis = redis.Redis.from_url(settings.REDIS_URL)
    try:
        app.send_task("finfactory.observability.tasks.worker_heartbeat", queue=celery_workers.queue)

        stamp = wait_for(
            lambda: (raw := client_redis.get(HEARTBEAT_KEY)) and node in raw.decode() and raw,
            seconds=30,
            what="the worker to run the heartbeat task",
        )
        assert stamp.decode().endswith(node)
        assert worker_heartbeat_age() < 30
        body = client.get("/readyz").json()
        assert body["worker"]["last_heartbeat_seconds_ago"] < 30
        assert body["worker"]["affects_readiness"] is False
    finally:
        client_redis.close()
