"""Worker heartbeat: beat schedules a task that stamps the time in Redis, so operators can see
whether any worker is consuming the queue. It is reported by `/readyz` but does not decide
readiness: a web process can serve while workers restart (events wait in the outbox)."""

import time

import redis
from django.conf import settings

HEARTBEAT_KEY = "ff:worker:heartbeat"
HEARTBEAT_TTL_SECONDS = 3600


def _client() -> redis.Redis:
    timeout = settings.READINESS_TIMEOUT_SECONDS
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=timeout, socket_timeout=timeout)


def record_worker_heartbeat(*, hostname: str) -> float:
    now = time.time()
    client = _client()
    try:
        client.set(HEARTBEAT_KEY, f"{now}:{hostname}", ex=HEARTBEAT_TTL_SECONDS)
    finally:
        client.close()
    return now


def worker_heartbeat_age() -> float | None:
    """Seconds since a worker last ran the heartbeat task, or None if unknown/unreachable."""
    try:
        client = _client()
        try:
            raw = client.get(HEARTBEAT_KEY)
        finally:
            client.close()
    except redis.RedisError:
        return None
    if raw is None:
        return None
    stamp = float(raw.decode().split(":", 1)[0])
    return round(max(0.0, time.time() - stamp), 1)
