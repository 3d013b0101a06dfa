"""Resolved configuration values, cached in process memory and invalidated through Redis.

Each process keeps, per schema, a snapshot: the global values overlaid by that schema's own values
(one query reads both tables). A snapshot is trusted for TENANTCONFIG_CACHE_SECONDS; then the
process compares the schema's and the global version counters in Redis (one MGET) with the ones it
loaded under, and reloads from the database only if either moved. Every committed change bumps its
schema's counter (the public schema's for a global change) and drops the snapshot of the process
that made it, so a change is seen at once there and within TENANTCONFIG_CACHE_SECONDS everywhere
else. Without Redis, snapshots are reloaded from the database every TENANTCONFIG_CACHE_SECONDS; a
lost bump is bounded by TENANTCONFIG_CACHE_MAX_AGE_SECONDS, after which a snapshot is reloaded
whatever the counters say.

A connection with a configuration write in its still-open transaction reads around the cache: it
sees its own write, and no other thread can be served a value that may yet roll back.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import redis
import structlog
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django_tenants.utils import get_public_schema_name

from finfactory.tenantconfig.registry import config_definition, on_registry_change

logger = structlog.get_logger(__name__)

TABLE = "tenantconfig_configvalue"
# After a Redis error, do not try Redis again for this long (reads go to the database meanwhile).
_REDIS_RETRY_SECONDS = 5.0


@dataclass(slots=True)
class _Snapshot:
    values: dict[str, Any]  # resolved: global values overlaid by the schema's own
    versions: tuple | None  # the Redis counters it was loaded under; None: Redis unavailable
    check_at: float  # when to compare the counters again
    reload_at: float  # when to reload whatever the counters say


_snapshots: dict[str, _Snapshot] = {}
# id(connection) -> the on-commit callback of the connection's open transaction that wrote config.
_open_writes: dict[int, object] = {}


def resolved_values() -> dict[str, Any]:
    """The current schema's resolved values (registered keys only; defaults not included)."""
    conn = connections[DEFAULT_DB_ALIAS]
    schema = conn.schema_name
    if _open_writes and _has_open_write(conn):
        return _load(conn, schema)
    snapshot = _snapshots.get(schema)
    now = time.monotonic()
    if snapshot is None or now >= snapshot.check_at:
        snapshot = _refresh(conn, schema, snapshot, now)
    return snapshot.values


def _refresh(conn, schema: str, snapshot: _Snapshot | None, now: float) -> _Snapshot:
    ttl = float(getattr(settings, "TENANTCONFIG_CACHE_SECONDS", 5))
    # Counters first, then rows: a change committed in between makes the counters look old at the
    # next check, so it costs one extra reload, never a stale snapshot.
    versions = _versions_read(conn, schema)
    if snapshot is not None and versions is not None and versions == snapshot.versions and now < snapshot.reload_at:
        snapshot.check_at = now + ttl
        return snapshot
    max_age = float(getattr(settings, "TENANTCONFIG_CACHE_MAX_AGE_SECONDS", 60))
    fresh = _Snapshot(_load(conn, schema), versions, check_at=now + ttl, reload_at=now + max_age)
    _snapshots[schema] = fresh
    return fresh


def stored_values(schema: str) -> dict[str, Any]:
    """The rows of one schema's table as {key: value}, uncached and unvalidated."""
    conn = connections[DEFAULT_DB_ALIAS]
    with conn.cursor() as cursor:
        cursor.execute(f"SELECT key, value::text FROM {_table(conn, schema)} ORDER BY key")  # noqa: S608
        return {key: json.loads(text) for key, text in cursor.fetchall()}


def _table(conn, schema: str) -> str:
    return f"{conn.ops.quote_name(schema)}.{TABLE}"


def _load(conn, schema: str) -> dict[str, Any]:
    public = get_public_schema_name()
    # Global rows first, the schema's own after them: the later wins.
    sql = f"SELECT 0, key, value::text FROM {_table(conn, public)}"  # noqa: S608
    if schema != public:
        sql += f" UNION ALL SELECT 1, key, value::text FROM {_table(conn, schema)}"  # noqa: S608
    with conn.cursor() as cursor:
        cursor.execute(sql + " ORDER BY 1, 2")
        rows = cursor.fetchall()
    values: dict[str, Any] = {}
    for layer, key, text in rows:
        definition = config_definition(key)
        if definition is None:
            continue  # a key no longer registered: nothing can ask for it
        value = json.loads(text)
        problem = definition.problem(value)
        if problem is not None:
            # The definition changed under a stored value (a tighter bound, another kind): fall
            # back to the next layer rather than hand callers a value of the wrong shape.
            logger.warning("tenantconfig.stored_value_invalid", key=key, schema=schema if layer else public)
            continue
        values[key] = value
    return values


# --- Invalidation ---------------------------------------------------------------------------


def changed_in_transaction(schema: str) -> None:
    """Record a write to `schema`'s values in the current transaction; invalidate after commit."""
    conn = connections[DEFAULT_DB_ALIAS]
    entry = _open_writes.get(id(conn))
    if entry is not None and _has_open_write(conn):
        entry.schemas.add(schema)
        return
    pending = _AfterCommit(id(conn), {schema})
    _open_writes[id(conn)] = pending
    transaction.on_commit(pending)


class _AfterCommit:
    def __init__(self, connection_id: int, schemas: set[str]):
        self.connection_id = connection_id
        self.schemas = schemas

    def __call__(self) -> None:
        if _open_writes.get(self.connection_id) is self:
            del _open_writes[self.connection_id]
        for schema in self.schemas:
            invalidate(schema)


def _has_open_write(conn) -> bool:
    """Whether this connection's open transaction wrote config (its on-commit callback is still
    queued: Django drops callbacks on rollback, including a savepoint's)."""
    pending = _open_writes.get(id(conn))
    if pending is None:
        return False
    if conn.in_atomic_block and any(entry[1] is pending for entry in conn.run_on_commit):
        return True
    if _open_writes.get(id(conn)) is pending:
        _open_writes.pop(id(conn), None)
    return False


def invalidate(schema: str) -> None:
    """A change to `schema`'s values committed: tell every process (Redis) and this one (memory)."""
    _version_bump(schema)
    if schema == get_public_schema_name():
        _snapshots.clear()  # every schema resolves through the global values
    else:
        _snapshots.pop(schema, None)


def cache_clear() -> None:
    """Forget every snapshot and the Redis client state of this process (tests, operations)."""
    global _redis_client, _redis_url, _redis_retry_at, _redis_warned
    _snapshots.clear()
    _open_writes.clear()
    _redis_client, _redis_url, _redis_retry_at, _redis_warned = None, None, 0.0, False


on_registry_change(_snapshots.clear)


# --- Redis version counters -------------------------------------------------------------------

_redis_client: redis.Redis | None = None
_redis_url: str | None = None
_redis_retry_at = 0.0
_redis_warned = False


def _redis() -> redis.Redis | None:
    global _redis_client, _redis_url, _redis_retry_at
    url = getattr(settings, "TENANTCONFIG_REDIS_URL", None) or settings.CACHES["default"]["LOCATION"]
    if url != _redis_url:
        _redis_client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        _redis_url, _redis_retry_at = url, 0.0
    if time.monotonic() < _redis_retry_at:
        return None
    return _redis_client


def _redis_failed(action: str, error: Exception) -> None:
    global _redis_retry_at, _redis_warned
    _redis_retry_at = time.monotonic() + _REDIS_RETRY_SECONDS
    if not _redis_warned:  # once per outage, not once per read
        _redis_warned = True
        logger.warning("tenantconfig.redis_unavailable", action=action, error=str(error))


def _redis_ok() -> None:
    global _redis_warned
    _redis_warned = False


def version_key(schema: str) -> str:
    # The database name keeps deployments (and parallel test databases) sharing a Redis apart.
    database = connections[DEFAULT_DB_ALIAS].settings_dict["NAME"]
    return f"ff:tenantconfig:{database}:{schema}:version"


def _versions_read(conn, schema: str) -> tuple | None:
    client = _redis()
    if client is None:
        return None
    public = get_public_schema_name()
    keys = [version_key(public)] if schema == public else [version_key(schema), version_key(public)]
    try:
        versions = tuple(client.mget(keys))
    except redis.RedisError as error:
        _redis_failed("read", error)
        return None
    _redis_ok()
    return versions


def _version_bump(schema: str) -> None:
    client = _redis()
    if client is None:
        logger.warning("tenantconfig.version_not_bumped", schema=schema)
        return
    key = version_key(schema)
    try:
        with client.pipeline(transaction=True) as pipe:
            # A counter that starts at a random number: after Redis loses its data, the counters
            # it hands out do not repeat the ones a process loaded under.
            pipe.set(key, secrets.randbelow(2**48), nx=True)
            pipe.incr(key)
            pipe.execute()
    except redis.RedisError as error:
        _redis_failed("bump", error)
        logger.warning("tenantconfig.version_not_bumped", schema=schema)
        return
    _redis_ok()
