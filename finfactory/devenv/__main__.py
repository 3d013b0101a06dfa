"""Development bootstrap used by `make run` and `make test`.

    python -m finfactory.devenv exec -- COMMAND [ARGS...]

1. Decide where PostgreSQL and Redis are: `DATABASE_URL` / `REDIS_URL` from the environment or
   `.env`, defaulting to 127.0.0.1:5432 and 127.0.0.1:6379.
2. If one is not reachable and its server binaries are installed, start a private server under
   `.local/` on a free loopback port (data kept between runs). If the binaries are missing, stop
   with the exact command that installs them.
3. Make sure the application database exists.
4. Run COMMAND with the resulting environment, forward Ctrl-C/SIGTERM to it, then stop the
   private servers it started. No process outlives this one.

Standard library only (plus psycopg, installed in the virtualenv, to create the database), so it
runs before Django is configured.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/finfactory"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
INSTALL_HINT = {
    "postgres": (
        "PostgreSQL server binaries (initdb, postgres) not found. Install them with:\n"
        "  Debian/Ubuntu:  sudo apt-get install -y postgresql\n"
        "  Fedora:         sudo dnf install -y postgresql-server\n"
        "  macOS:          brew install postgresql@16\n"
        "or point DATABASE_URL at a running server."
    ),
    "redis": (
        "redis-server not found. Install it with:\n"
        "  Debian/Ubuntu:  sudo apt-get install -y redis-server\n"
        "  Fedora:         sudo dnf install -y redis\n"
        "  macOS:          brew install redis\n"
        "or point REDIS_URL at a running server."
    ),
}


def say(message: str) -> None:
    print(f"[devenv] {message}", file=sys.stderr, flush=True)


class BootstrapError(RuntimeError):
    pass


# --- environment -------------------------------------------------------------------------------


def read_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return values


def configured(name: str, default: str) -> str:
    return os.environ.get(name) or read_dotenv(ROOT / ".env").get(name) or default


def local_dir() -> Path:
    return Path(os.environ.get("FINFACTORY_LOCAL_DIR", ROOT / ".local")).resolve()


def reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port(preferred: int) -> int:
    for candidate in (preferred, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise BootstrapError("no free TCP port on 127.0.0.1")


def with_port(url: str, host: str, port: int) -> str:
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{host}:{port}" if userinfo else f"{host}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def wait_until(predicate, *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise BootstrapError(f"{what} did not come up within {seconds:.0f} s")


# --- private servers ---------------------------------------------------------------------------


@dataclass
class PrivateServer:
    name: str
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        # SIGINT is PostgreSQL's "fast" shutdown; redis-server saves nothing (--save "").
        self.process.send_signal(signal.SIGINT if self.name == "postgres" else signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def postgres_bindir() -> Path | None:
    """Where initdb and postgres are: `PG_BINDIR` if set, else the PATH, else the usual places."""
    if os.environ.get("PG_BINDIR"):
        candidates = [Path(os.environ["PG_BINDIR"])]
    else:
        initdb = shutil.which("initdb")
        candidates = [Path(initdb).parent] if initdb else []
        versions = sorted(
            Path("/usr/lib/postgresql").glob("*/bin"),
            key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
            reverse=True,
        )
        brew = [
            *Path("/opt/homebrew/opt").glob("postgresql@*/bin"),
            *Path("/usr/local/opt").glob("postgresql@*/bin"),
        ]
        candidates += versions + sorted(brew, reverse=True)
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "postgres").exists():
            return bindir
    return None


def _service_user(path: Path) -> dict:
    """PostgreSQL refuses to run as root: when we are root, run it as the `postgres` user.

    The process is started directly as that user (not through su/runuser) so that our signals
    reach the server itself.
    """
    if os.geteuid() != 0:
        return {}
    import pwd

    try:
        account = pwd.getpwnam("postgres")
    except KeyError as exc:
        raise BootstrapError("running as root and there is no `postgres` user to run PostgreSQL") from exc
    for directory, _dirs, files in os.walk(path):
        os.chown(directory, account.pw_uid, account.pw_gid)
        for name in files:
            os.chown(os.path.join(directory, name), account.pw_uid, account.pw_gid)
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def start_postgres(base: Path) -> tuple[PrivateServer, int]:
    bindir = postgres_bindir()
    if bindir is None:
        raise BootstrapError(INSTALL_HINT["postgres"])
    home = base / "postgres"
    data = home / "data"
    home.mkdir(parents=True, exist_ok=True)
    as_user = _service_user(home)
    if not (data / "PG_VERSION").exists():
        say(f"initialising a private PostgreSQL cluster in {data}")
        subprocess.run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            **as_user,
        )
    port = free_port(55432)
    log = home / "postgres.log"
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [
                str(bindir / "postgres"),
                "-D",
                str(data),
                "-p",
                str(port),
                "-k",
                str(home),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "max_connections=200",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **as_user,
        )
    server = PrivateServer("postgres", process, log)
    try:
        wait_until(
            lambda: reachable("127.0.0.1", port, 0.2) or process.poll() is not None,
            seconds=30,
            what="PostgreSQL",
        )
        if process.poll() is not None:
            raise BootstrapError(f"PostgreSQL exited; see {log}")
    except BootstrapError:
        server.stop()
        raise
    say(f"started a private PostgreSQL on 127.0.0.1:{port} (log: {log})")
    return server, port


def start_redis(base: Path) -> tuple[PrivateServer, int]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise BootstrapError(INSTALL_HINT["redis"])
    home = base / "redis"
    home.mkdir(parents=True, exist_ok=True)
    port = free_port(56379)
    log = home / "redis.log"
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(home),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = PrivateServer("redis", process, log)
    try:
        wait_until(lambda: reachable("127.0.0.1", port, 0.2) or process.poll() is not None, seconds=15, what="Redis")
        if process.poll() is not None:
            raise BootstrapError(f"redis-server exited; see {log}")
    except BootstrapError:
        server.stop()
        raise
    say(f"started a private Redis on 127.0.0.1:{port} (log: {log})")
    return server, port


def ensure_database(database_url: str) -> None:
    """Create the application database if the server does not have it yet."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/") or "postgres"
    admin_url = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    deadline = time.monotonic() + 30
    while True:
        try:
            with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
                if not exists:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                    say(f"created database {name}")
                return
        except psycopg.OperationalError as exc:
            # A freshly started server may accept TCP before it accepts logins.
            if time.monotonic() > deadline:
                raise BootstrapError(f"cannot connect to PostgreSQL at {parts.hostname}:{parts.port}: {exc}") from exc
            time.sleep(0.2)


# --- orchestration -----------------------------------------------------------------------------


@dataclass
class Services:
    env: dict[str, str]
    private: list[PrivateServer] = field(default_factory=list)

    def stop(self) -> None:
        for server in reversed(self.private):
            server.stop()
        self.private.clear()
        services_env = local_dir() / "services.env"
        if services_env.exists():
            services_env.unlink()


def ensure_services() -> Services:
    database_url = configured("DATABASE_URL", DEFAULT_DATABASE_URL)
    redis_url = configured("REDIS_URL", DEFAULT_REDIS_URL)
    broker_url = os.environ.get("CELERY_BROKER_URL") or read_dotenv(ROOT / ".env").get("CELERY_BROKER_URL")
    services = Services(env={})
    base = local_dir()
    try:
        db = urlsplit(database_url)
        db_host, db_port = db.hostname or "127.0.0.1", db.port or 5432
        if not reachable(db_host, db_port):
            say(f"PostgreSQL is not reachable at {db_host}:{db_port}")
            server, port = start_postgres(base)
            services.private.append(server)
            database_url = with_port(database_url, "127.0.0.1", port)
            services.env["DATABASE_URL"] = database_url
        ensure_database(database_url)

        rd = urlsplit(redis_url)
        rd_host, rd_port = rd.hostname or "127.0.0.1", rd.port or 6379
        if not reachable(rd_host, rd_port):
            say(f"Redis is not reachable at {rd_host}:{rd_port}")
            server, port = start_redis(base)
            services.private.append(server)
            redis_url = with_port(redis_url, "127.0.0.1", port)
            services.env["REDIS_URL"] = redis_url
            if broker_url is None or urlsplit(broker_url).port in (None, rd_port):
                services.env["CELERY_BROKER_URL"] = redis_url
    except BaseException:
        services.stop()
        raise

    if services.env:
        base.mkdir(parents=True, exist_ok=True)
        (base / "services.env").write_text("".join(f"{k}={v}\n" for k, v in services.env.items()))
    return services


def run(command: list[str], extra_env: dict[str, str]) -> int:
    """Run COMMAND in the foreground; Ctrl-C reaches it (same process group) and we wait for it."""
    child = subprocess.Popen(command, env={**os.environ, **extra_env})

    def forward(signum, _frame):
        if child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGHUP, forward)
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            # The terminal delivered SIGINT to the child too; keep waiting for it to finish.
            continue


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] != "exec" or argv[1] != "--" or len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        services = ensure_services()
    except BootstrapError as exc:
        say(str(exc))
        return 1
    try:
        return run(argv[2:], services.env)
    finally:
        services.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
