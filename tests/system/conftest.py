import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A redis-server of the test's own on a fixed loopback port, without persistence: kill() is a
    crash (its data is lost, SIGKILL works on a paused one too), start() brings it back, empty, on
    the same port."""

    def __init__(self, port: int):
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> "PrivateRedis":
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        # Ours, not another server that took the port meanwhile: a redis-server that cannot bind exits.
        process = self.process
        wait_for(lambda: process.poll() is None and port_open(self.port), seconds=10, what="redis-server to listen")
        return self

    def pause(self) -> None:
        """SIGSTOP: it still takes connections (the kernel does) but answers nothing, as a hung
        server or a half-open connection behaves."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def redis_server():
    """A private redis-server on a free port (never the shared one), started; killed afterwards."""
    server = PrivateRedis(free_port()).start()
    yield server
    server.kill()


@pytest.fixture
def web_server(transactional_db, child_env):
    """start(**env) → the URL of the API served by gunicorn (as api_server does) over this test's
    database, with extra environment variables (settings) for the server's processes."""
    from django.db import connection

    started = []
    db = connection.settings_dict

    def start(*, workers: int = 1, threads: int = 8, **env) -> str:
        port = free_port()
        process = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "config.wsgi", "-c", "config/gunicorn.py"],
            cwd=ROOT,
            env={
                **child_env,
                "DJANGO_SETTINGS_MODULE": "config.settings.test",
                "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
                "HOST": "127.0.0.1",
                "PORT": str(port),
                "WEB_CONCURRENCY": str(workers),
                "WEB_THREADS": str(threads),
                "DB_CONN_MAX_AGE": "0",
                **{key: str(value) for key, value in env.items()},
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        started.append(process)
        url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}")
            try:
                return requests.get(f"{url}/healthz", timeout=5).status_code == 200
            except requests.RequestException:  # not listening yet, or workers still loading
                return False

        wait_for(up, seconds=60, what="gunicorn to serve /healthz")
        return url

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in started:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
