"""`make run`/`make test` bootstrap: private PostgreSQL and Redis when none is reachable."""

import os
import shutil
import subprocess
import tempfile
import textwrap

import pytest

from .conftest import ROOT, VENV_BIN, port_open

pytestmark = pytest.mark.system

PROBE = textwrap.dedent(
    """
    import os, psycopg, redis
    with psycopg.connect(os.environ["DATABASE_URL"].replace("postgres://", "postgresql://")) as conn:
        print("db", conn.execute("select current_database()").fetchone()[0], conn.info.port)
    r = redis.Redis.from_url(os.environ["REDIS_URL"])
    print("redis", r.ping(), r.connection_pool.connection_kwargs["port"])
    """
)


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
def test_unreachable_services_are_replaced_by_private_ones_that_stop_afterwards(child_env, closed_port):
    local = tempfile.mkdtemp(prefix="ff-devenv-")
    os.chmod(local, 0o755)  # the private PostgreSQL may run as the postgres user
    env = {
        **child_env,
        "FINFACTORY_LOCAL_DIR": local,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{closed_port}/devenv_probe",
        "REDIS_URL": f"redis://127.0.0.1:{closed_port}/0",
    }
    try:
        result = subprocess.run(
            [
                str(VENV_BIN / "python"),
                "-m",
                "finfactory.devenv",
                "exec",
                "--",
                str(VENV_BIN / "python"),
                "-c",
                PROBE,
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            start_new_session=True,
        )

        assert result.returncode == 0, result.stderr
        db_line, redis_line = result.stdout.split("\n")[:2]
        _, database, db_port = db_line.split()
        _, pong, redis_port = redis_line.split()
        assert database == "devenv_probe"
        assert pong == "True"
        assert int(db_port) != closed_port and int(redis_port) != closed_port
        assert "started a private PostgreSQL" in result.stderr
        assert "started a private Redis" in result.stderr
        # Everything it started is gone, and the override file with it.
        assert not port_open(int(db_port))
        assert not port_open(int(redis_port))
        assert not os.path.exists(os.path.join(local, "services.env"))
        assert os.path.exists(os.path.join(local, "postgres", "data", "PG_VERSION"))
    finally:
        shutil.rmtree(local, ignore_errors=True)


@pytest.mark.parametrize(
    ("service", "hint"),
    [
        ("DATABASE_URL", "sudo apt-get install -y postgresql"),
        ("REDIS_URL", "sudo apt-get install -y redis-server"),
    ],
)
def test_missing_server_binaries_stop_with_the_install_command(child_env, closed_port, tmp_path, service, hint):
    scheme = "postgres://postgres@" if service == "DATABASE_URL" else "redis://"
    env = {
        **child_env,
        "PATH": str(VENV_BIN),  # no redis-server on the PATH
        "PG_BINDIR": str(tmp_path),  # and no initdb/postgres where PostgreSQL is looked for
        service: f"{scheme}127.0.0.1:{closed_port}/0",
    }
    result = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "finfactory.devenv", "exec", "--", "true"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert hint in result.stderr
    assert "brew install" in result.stderr


def test_the_command_exit_status_is_passed_through(child_env):
    result = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "finfactory.devenv", "exec", "--", "sh", "-c", "exit 7"],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
    )

    assert result.returncode == 7
