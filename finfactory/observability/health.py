"""Liveness (`/healthz`) and readiness (`/readyz`) probes.

They are answered by middleware placed before host validation, tenant routing and URL
resolution, so a load balancer probing by IP address or an unknown Host header gets an answer.
"""

import json
import time
from collections.abc import Callable

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from kombu import Connection

from finfactory.api.problems import PROBLEM_CONTENT_TYPE, problem_body
from finfactory.observability.heartbeat import worker_heartbeat_age


def check_database(timeout: float) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        # A broken connection must not be reused by the next request of this worker.
        connection.close()
        raise


def check_redis(timeout: float) -> None:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
    finally:
        client.close()


def check_broker(timeout: float) -> None:
    # connect_timeout bounds only the TCP connect: without socket timeouts, a broker that accepts
    # connections but does not answer (hung, stopped, a half-open connection) held the probe, and
    # the web thread serving it, forever.
    options = {
        **getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}),
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
    }
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=timeout, transport_options=options) as broker:
        broker.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)


CHECKS: dict[str, Callable[[float], None]] = {
    "database": check_database,
    "redis": check_redis,
    "broker": check_broker,
}


def run_checks() -> dict[str, dict]:
    timeout = settings.READINESS_TIMEOUT_SECONDS
    results: dict[str, dict] = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check(timeout)
        except Exception as exc:  # any failure means "not ready"; the reason is reported
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
        else:
            results[name] = {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}
    return results


def _json(status: int, body: dict, content_type: str = "application/json") -> HttpResponse:
    response = HttpResponse(json.dumps(body), status=status, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response


# Dependencies the API serves without: readiness reports them down but stays 200.
DEGRADABLE = {"redis", "broker"}
DEGRADED_DETAIL = (
    "Serving without Redis: money moves, events wait in the outbox until the broker returns, "
    "rate limits are not enforced."
)


def healthz(request) -> HttpResponse:
    return _json(200, {"status": "ok"})


def readyz(request) -> HttpResponse:
    checks = run_checks()
    # Unknown when Redis did not answer: asking it again would only add another timeout.
    age = worker_heartbeat_age() if checks["redis"]["ok"] else None
    worker = {"last_heartbeat_seconds_ago": age, "affects_readiness": False}
    failed = sorted(name for name, result in checks.items() if not result["ok"])
    if not failed:
        return _json(200, {"status": "ok", "checks": checks, "worker": worker})
    if set(failed) <= DEGRADABLE:
        # Still ready: money moves without Redis (events wait in the outbox, rate limits fail open,
        # caches read the database). Taking every web process out of the load balancer would turn
        # a Redis outage into an API outage; the body says what is down, for alerting.
        return _json(
            200,
            {"status": "degraded", "degraded": failed, "detail": DEGRADED_DETAIL, "checks": checks, "worker": worker},
        )
    body = problem_body(
        status=503,
        code="not_ready",
        title="Service Unavailable",
        detail=f"Unreachable: {', '.join(failed)}.",
        failed=failed,
        checks=checks,
        worker=worker,
    )
    return _json(503, body, content_type=PROBLEM_CONTENT_TYPE)


def _metrics(request):
    from finfactory.observability.metrics import metrics

    return metrics(request)


PROBES = {"/healthz": healthz, "/readyz": readyz, "/metrics": _metrics}


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        probe = PROBES.get(request.path)
        if probe is not None and request.method in ("GET", "HEAD"):
            return probe(request)
        return self.get_response(request)
