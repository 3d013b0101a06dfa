"""A real Celery worker process consumes tasks from the Redis broker with our app configuration."""

import subprocess
import uuid

import pytest
import redis
from django.conf import settings

from config.celery import app
from finfactory.observability.heartbeat import HEARTBEAT_KEY, worker_heartbeat_age

from .conftest import ROOT, VENV_BIN, wait_for

pytestmark = [pytest.mark.system, pytest.mark.usefixtures("db_access")]


def test_a_worker_runs_the_heartbeat_task_and_readyz_reports_it(child_env, client):
    queue = f"test-{uuid.uuid4().hex}"
    node = f"{queue}@localhost"
    worker = subprocess.Popen(
        [
            str(VENV_BIN / "celery"),
            "-A",
            "config",
            "worker",
            "-Q",
            queue,
            "-n",
            node,
            "--concurrency",
            "1",
            "--pool",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env={**child_env, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
    )
    client_redis = redis.Redis.from_url(settings.REDIS_URL)
    try:
        app.send_task("finfactory.observability.tasks.worker_heartbeat", queue=queue)

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
        worker.terminate()
        worker.wait(timeout=30)
        client_redis.close()
