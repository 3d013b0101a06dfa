"""`make run` brings up web, worker and beat and walks the demo once; Ctrl-C stops every process
it started."""

import json
import os
import signal
import subprocess
import threading
import urllib.request
from urllib.parse import urlsplit, urlunsplit

import pytest

from .conftest import ROOT, port_open, session_processes, wait_for

pytestmark = pytest.mark.system


def http_get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback only)
            return response.status, json.loads(response.read())
    except OSError:
        return None


def own_redis_database(env: dict) -> str:
    """make run's worker takes tasks from the default queue: on a Redis database of its own it
    takes no other running platform's tasks, and they none of its own (the demo waits for its KYC)."""
    url = urlsplit(env.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    return urlunsplit(url._replace(path=f"/{1 + os.getpid() % 15}"))


def demo_outcome(lines: list[str]):
    return next((line for line in lines if line.startswith(("Demo completed", "Demo already", "CommandError"))), None)


def test_make_run_serves_readyz_runs_the_demo_and_ctrl_c_leaves_no_process(child_env, closed_port):
    port = closed_port
    redis_url = own_redis_database(child_env)
    run = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PORT={port}"],
        cwd=ROOT,
        env={**child_env, "DJANGO_SETTINGS_MODULE": "config.settings.dev", "REDIS_URL": redis_url,
             "CELERY_BROKER_URL": redis_url, "IDENTITY_SANDBOX_DECISION_SECONDS": "0.5"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own session and process group, like a terminal's job
    )  # fmt: skip
    sid = os.getsid(run.pid)
    lines: list[str] = []

    def read_output():
        for line in run.stdout:
            lines.append(line.rstrip("\n"))

    reader = threading.Thread(target=read_output, daemon=True)
    reader.start()
    try:
        status, body = wait_for(
            lambda: http_get(f"http://127.0.0.1:{port}/readyz"),
            seconds=120,
            what="make run to answer /readyz",
        )
        assert status == 200
        assert body["status"] == "ok"
        assert len(session_processes(sid)) >= 4  # make, devenv, honcho, gunicorn, celery…
        # The demo walks the API once (or says it already did, .local/demo-done).
        outcome = wait_for(lambda: demo_outcome(lines), seconds=120, what="the demo to finish")
        assert outcome.startswith(("Demo completed", "Demo already completed")), "\n".join(lines[-40:])

        os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        run.wait(timeout=60)
        reader.join(timeout=10)
        output = "\n".join(lines)

        wait_for(lambda: not session_processes(sid), seconds=30, what="every process to exit")
        assert not port_open(port)
        assert "http://127.0.0.1:" in output
        assert "Demo tenant   demo   API key: ff_test_" in output
    finally:
        if run.poll() is None or session_processes(sid):
            os.killpg(run.pid, signal.SIGKILL)
