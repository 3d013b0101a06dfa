"""Small helpers for API tests: authenticated clients and problem+json assertions."""

import json
import threading
from collections import Counter

from rest_framework.test import APIClient

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "request_id"}


def api_client(secret: str | None = None) -> APIClient:
    client = APIClient()
    if secret:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def problem(response, status: int, code: str) -> dict:
    """Assert a problem+json response with this status and code; return its body.

    A replayed response (Idempotent-Replayed) carries the first request's request_id.
    """
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    body = json.loads(response.content)
    assert set(body) >= PROBLEM_KEYS, body
    assert body["status"] == status
    assert body["code"] == code, body
    if response.get("Idempotent-Replayed") != "true":
        assert body["request_id"] == response["X-Request-Id"]
    return body


def error_fields(body: dict) -> list[str]:
    return [error["field"] for error in body.get("errors", [])]


def in_parallel(tenant, work, *, workers: int = 20, refusal=lambda error: error.code) -> Counter:
    """Run work(index) in `workers` threads released together, each on its own connection in the
    tenant's schema; count what each returned, `refusal(error)` of a PlatformError, or a crash
    (a deadlock, a timeout, a bug: reported as ("crash", …), never hidden)."""
    from django.db import connections

    from finfactory.errors import PlatformError
    from finfactory.request_context import acting_as
    from finfactory.tenancy.context import in_tenant

    outcomes: Counter = Counter()
    lock = threading.Lock()
    start = threading.Barrier(workers)

    def run(index: int) -> None:
        try:
            with in_tenant(tenant), acting_as(f"system:worker-{index}"):
                start.wait()
                outcome = work(index)
        except PlatformError as error:
            outcome = refusal(error)
        except Exception as unexpected:
            outcome = ("crash", f"{type(unexpected).__name__}: {unexpected}")
        finally:
            connections.close_all()
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=run, args=(index,)) for index in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
