"""`make run` brings up web, worker and beat; Ctrl-C stops every process it started."""

import json
import os
import signal
import subprocess
import urllib.request

import pytest

from .conftest import ROOT, port_open, session_processes, wait_for

pytestmark = pytest.mark.system


def http_get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback only)
            return response.status, json.loads(response.read())
    except OSError:
        return None


def test_make_run_serves_readyz_and_ctrl_c_leaves_no_process(child_env, closed_port):
    port = closed_port
    run = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PORT={port}"],
        cwd=ROOT,
        env={**child_env, "DJANGO_SETTINGS_MODULE": "config.settings.dev"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own session and process group, like a terminal's job
    )
    sid = os.getsid(run.pid)
    try:
        status, body = wait_for(
            lambda: http_get(f"http://127.0.0.1:{port}/readyz"),
            seconds=120,
            what="make run to answer /readyz",
        )
        assert status == 200
        assert body["status"] == "ok"
        assert len(session_processes(sid)) >= 4  # make, devenv, honcho, gunicorn, celery…

        os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        output, _ = run.communicate(timeout=60)

        wait_for(lambda: not session_processes(sid), seconds=30, what="every process to exit")
        assert not port_open(port)
        assert "http://127.0.0.1:" in output
        assert "Demo tenant   demo   API key: ff_test_" in output
    finally:
        if run.poll() is None or session_processes(sid):
            os.killpg(run.pid, signal.SIGKILL)
