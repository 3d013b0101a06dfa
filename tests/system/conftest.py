import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def wait_for(predicate, *, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def session_processes(sid: int) -> list[str]:
    """Processes still alive in a session (ps lists them by session id)."""
    out = subprocess.run(["ps", "-eo", "pid=,sid=,stat=,args="], capture_output=True, text=True).stdout
    alive = []
    for line in out.splitlines():
        pid, session, stat, args = line.split(None, 3)
        if int(session) == sid and not stat.startswith("Z"):
            alive.append(f"{pid} {args}")
    return alive


@pytest.fixture
def child_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}"
    return env


@pytest.fixture
def celery_workers(child_env):
    """Start real Celery worker processes on this test's database and a private queue."""
    from django.db import connection

    started = []
    queue = f"test-{os.getpid()}-{time.monotonic_ns()}"
    db = connection.settings_dict

    def start(*, concurrency: int = 1, pool: str = "solo", include: str = "tests.outbox_consumers", **env):
        name = f"{queue}-{len(started)}@localhost"
        process = subprocess.Popen(
            [str(VENV_BIN / "celery"), "-A", "config", "worker", "-I", include, "-Q", queue,
             "-n", name, "--pool", pool, "--concurrency", str(concurrency), "--without-gossip",
             "--without-mingle", "--loglevel", "WARNING"],
            cwd=ROOT,
            env={
                **child_env,
                "DJANGO_SETTINGS_MODULE": "config.settings.test",
                "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
                "OUTBOX_QUEUE": queue,
                **{key: str(value) for key, value in env.items()},
            },
            start_new_session=True,
        )  # fmt: skip
        started.append(process)
        return process

    start.queue = queue
    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in started:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
