"""Small helpers for API tests: authenticated clients and problem+json assertions."""

import json

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
