"""Deliveries against a REAL HTTP receiver on 127.0.0.1 (http.server in a thread): signature (checked
with the documented receiver snippet), retries on 500 per the backoff (the task run with a
controlled clock, no sleeping), redelivery, auto-disable, the DNS-resolving SSRF guard, secret
rotation, and one end-to-end run through the outbox."""

from __future__ import annotations

import inspect
import json
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.utils import timezone

from contexts.webhooks import api, delivery, receiver, services
from contexts.webhooks.models import WebhookDelivery, WebhookEndpoint
from contexts.webhooks.receiver import signature_verify
from contexts.webhooks.tasks import deliver
from finfactory.outbox.drain import drain
from finfactory.outbox.models import OutboxEvent
from finfactory.tenancy.context import in_tenant
from tests.contexts.webhooks.conftest import ENDPOINTS

DOC = Path(__file__).resolve().parents[3] / "docs" / "webhooks-receiver.md"


class Receiver:
    """Records every request; answers the next status of `statuses` (the last one repeats)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses = [200]
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status = outer.statuses.pop(0) if len(outer.statuses) > 1 else outer.statuses[0]
                answer = f"answer {status} " + "x" * 3000
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer.encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def http_receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def queued(monkeypatch):
    """Tasks the code queues (recorded, never sent to the broker)."""
    sent = []
    monkeypatch.setattr(
        "contexts.webhooks.dispatch.tenant_task_send",
        lambda name, *, args, queue="", countdown=None, schema=None: sent.append((name, args, countdown)) or True,
    )
    return sent


def envelope(event_type="wallet.created", event_id="evt_test_1", sequence=1) -> dict:
    return {
        "id": event_id, "type": event_type, "version": 1, "tenant": "t", "occurred_at": "2025-01-01T00:00:00Z",
        "aggregate_type": "wallet", "aggregate_id": "wal_1", "sequence": sequence, "data": {"wallet_id": "wal_1"},
        "request_id": "req_1", "actor": "system:test",
    }  # fmt: skip


def endpoint_and_delivery(url, events=("wallet.*",), **kw):
    created = api.endpoint_create(url=url, events=list(events))
    [delivery_id] = services.deliveries_record(envelope=envelope(**kw))
    return created, delivery_id


def row(delivery_id) -> WebhookDelivery:
    return WebhookDelivery.objects.get(public_id=delivery_id)


# --- signing ---------------------------------------------------------------------------------------


def test_delivery_is_signed_and_the_snippet_verifies_it(webhooks, http_receiver, queued):
    created, delivery_id = endpoint_and_delivery(http_receiver.url)

    assert deliver(delivery_id) == "delivered"

    [request] = http_receiver.requests
    headers, body = request["headers"], request["body"]
    assert json.loads(body) == envelope()
    assert body == row(delivery_id).payload.encode()
    assert headers["Content-Type"] == "application/json"
    assert (headers["FinFactory-Event-Id"], headers["FinFactory-Event-Type"]) == ("evt_test_1", "wallet.created")
    assert headers["FinFactory-Delivery-Attempt"] == "1"
    header = headers["FinFactory-Signature"]
    assert header.count("v1=") == 1
    assert signature_verify(payload=body, header=header, secret=created.secret)
    # Tampered body, wrong secret, replayed old timestamp, garbage: all rejected.
    timestamp = int(header.split(",")[0][2:])
    assert not signature_verify(payload=body.replace(b"wal_1", b"wal_2"), header=header, secret=created.secret)
    assert not signature_verify(payload=body, header=header, secret="whsec_other")
    assert not signature_verify(payload=body, header=header, secret=created.secret, now=timestamp + 301)
    assert signature_verify(payload=body, header=header, secret=created.secret, now=timestamp + 299)
    old = delivery.signature_header(body, [created.secret], timestamp - 3600)
    assert not signature_verify(payload=body, header=old, secret=created.secret)
    for bad in ("", "t=abc,v1=00", "v1=00", f"t={timestamp}", None):
        assert signature_verify(payload=body, header=bad, secret=created.secret) is False

    saved = row(delivery_id)
    assert (saved.status, saved.attempts, saved.last_status_code, saved.next_attempt_at) == ("delivered", 1, 200, None)
    [attempt] = saved.attempt_log.all()
    assert (attempt.number, attempt.status_code, attempt.error, attempt.manual) == (1, 200, "", False)
    assert attempt.response_excerpt.startswith("answer 200") and len(attempt.response_excerpt) == 1024
    assert deliver(delivery_id) == "delivered" and len(http_receiver.requests) == 1  # a duplicate task sends nothing


def test_the_documented_snippet_is_the_shipped_function():
    doc = DOC.read_text()
    assert inspect.getsource(receiver.signature_verify) in doc
    assert "import hashlib\nimport hmac\nimport time" in doc


# --- retries -----------------------------------------------------------------------------------------


def test_schedule_spans_at_least_three_days_at_the_defaults():
    waits = delivery.schedule()
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 30720] + [43200] * 5
    assert sum(waits) == 277410 >= 3 * 86400


def test_a_500_is_retried_per_the_backoff_then_failed(webhooks, http_receiver, queued, settings):
    settings.WEBHOOKS_MAX_ATTEMPTS = 4
    http_receiver.statuses = [500]
    _, delivery_id = endpoint_and_delivery(http_receiver.url)
    now = timezone.now()

    for number, base in enumerate([30, 60, 120], start=1):
        assert delivery.delivery_attempt(delivery_id, now=now) == "retry"
        saved = row(delivery_id)
        wait = (saved.next_attempt_at - now).total_seconds()
        assert base <= wait <= base * 1.1, (number, wait)
        assert (saved.status, saved.attempts, saved.last_status_code) == ("pending", number, 500)
        assert delivery.delivery_attempt(delivery_id, now=saved.next_attempt_at - timedelta(seconds=1)) == "not_due"
        now = saved.next_attempt_at

    assert delivery.delivery_attempt(delivery_id, now=now) == "failed"
    saved = row(delivery_id)
    assert (saved.status, saved.attempts, saved.next_attempt_at) == ("failed", 4, None)
    assert [a.status_code for a in saved.attempt_log.all()] == [500] * 4
    assert [r["headers"]["FinFactory-Delivery-Attempt"] for r in http_receiver.requests] == ["1", "2", "3", "4"]
    assert len({r["body"] for r in http_receiver.requests}) == 1
    # Short waits are queued with their countdown; the beat picks up the rest.
    assert [(name, countdown is not None) for name, _, countdown in queued] == [
        ("contexts.webhooks.tasks.deliver", True)
    ] * 3


def test_the_beat_requeues_due_deliveries_only(webhooks, queued):
    from contexts.webhooks.tasks import requeue_due

    _, due = endpoint_and_delivery("https://hooks.example.com/a")
    [later] = services.deliveries_record(envelope=envelope(event_id="evt_test_2"))
    WebhookDelivery.objects.filter(public_id=later).update(next_attempt_at=timezone.now() + timedelta(hours=1))
    queued.clear()

    assert requeue_due() == 1
    assert queued == [("contexts.webhooks.tasks.deliver", [due], None)]


# --- fan-out, redelivery ------------------------------------------------------------------------------


def test_fan_out_records_one_delivery_per_matching_endpoint_once(webhooks, queued):
    wallet = api.endpoint_create(url="https://a.example.com/h", events=["wallet.*"])
    every = api.endpoint_create(url="https://b.example.com/h", events=["*"])
    api.endpoint_create(url="https://c.example.com/h", events=["qr.*"])
    paused = api.endpoint_create(url="https://d.example.com/h", events=["wallet.created"])
    api.endpoint_disable(endpoint_id=paused.id, reason="test")

    first = services.deliveries_record(envelope=envelope(sequence=7))
    again = services.deliveries_record(envelope=envelope(sequence=7))

    assert len(first) == 2 and again == []
    rows = WebhookDelivery.objects.filter(event_id="evt_test_1").select_related("endpoint")
    assert sorted(r.endpoint.public_id for r in rows) == sorted([wallet.id, every.id])
    assert {(r.sequence, r.status, r.attempts, r.aggregate_id) for r in rows} == {(7, "pending", 0, "wal_1")}


def test_redelivery_sends_the_same_event_again(webhooks, http_receiver, queued):
    _, delivery_id = endpoint_and_delivery(http_receiver.url)
    assert deliver(delivery_id) == "delivered"

    redelivered = api.delivery_redeliver(endpoint_id=row(delivery_id).endpoint.public_id, delivery_id=delivery_id)

    assert redelivered.status == "pending"
    assert deliver(delivery_id) == "delivered"
    first, second = http_receiver.requests
    assert first["body"] == second["body"]
    assert second["headers"]["FinFactory-Delivery-Attempt"] == "2"
    listed = api.delivery_list(endpoint_id=row(delivery_id).endpoint.public_id).items
    assert [(a.number, a.status_code, a.manual) for a in listed[0].attempt_log] == [(1, 200, False), (2, 200, True)]


def test_rest_lists_deliveries_and_redelivers(rest, module_tenant, http_receiver, queued):
    endpoint = rest.post(ENDPOINTS, {"url": http_receiver.url, "events": ["wallet.*"]}, format="json").json()
    with in_tenant(module_tenant.tenant):
        [delivery_id] = services.deliveries_record(envelope=envelope(event_id="evt_rest"))
        deliver(delivery_id)

    listed = rest.get(f"{ENDPOINTS}/{endpoint['id']}/deliveries")
    redelivered = rest.post(f"{ENDPOINTS}/{endpoint['id']}/deliveries/{delivery_id}/redeliver")
    missing = rest.post(f"{ENDPOINTS}/{endpoint['id']}/deliveries/whd_00000000000000000000000000/redeliver")

    assert listed.status_code == 200, listed.content
    [item] = listed.json()["data"]
    assert (item["id"], item["object"], item["status"], item["sequence"]) == (
        delivery_id,
        "webhook_delivery",
        "delivered",
        1,
    )
    assert item["attempt_log"][0]["status_code"] == 200
    assert redelivered.status_code == 202 and redelivered.json()["status"] == "pending"
    assert missing.status_code == 404
    with in_tenant(module_tenant.tenant):
        assert deliver(delivery_id) == "delivered"
    assert len(http_receiver.requests) == 2


# --- auto-disable ---------------------------------------------------------------------------------


def test_endpoint_is_disabled_after_n_failures_and_the_event_published(webhooks, http_receiver, queued, settings):
    settings.WEBHOOKS_DISABLE_AFTER_FAILURES = 3
    settings.WEBHOOKS_DISABLE_AFTER_SECONDS = 0
    http_receiver.statuses = [200, 500]
    created, first = endpoint_and_delivery(http_receiver.url)
    assert deliver(first) == "delivered"
    ids = [services.deliveries_record(envelope=envelope(event_id=f"evt_f{n}"))[0] for n in range(4)]

    assert [deliver(i) for i in ids[:2]] == ["retry", "retry"]
    assert WebhookEndpoint.objects.get(public_id=created.id).enabled is True
    assert deliver(ids[2]) == "retry"

    endpoint = WebhookEndpoint.objects.get(public_id=created.id)
    assert (endpoint.enabled, endpoint.failure_streak) == (False, 3)
    event = OutboxEvent.objects.get(type="webhook_endpoint.disabled")
    assert event.aggregate_id == created.id
    assert (event.data["failure_streak"], event.data["endpoint_id"]) == (3, created.id)
    assert deliver(ids[3]) == "endpoint_disabled"
    assert len(http_receiver.requests) == 4
    with pytest.raises(Exception) as refused:
        api.delivery_redeliver(endpoint_id=created.id, delivery_id=ids[3])
    assert refused.value.code == "endpoint_disabled"


def test_a_success_resets_the_failure_streak(webhooks, http_receiver, queued, settings):
    settings.WEBHOOKS_DISABLE_AFTER_FAILURES = 2
    settings.WEBHOOKS_DISABLE_AFTER_SECONDS = 0
    http_receiver.statuses = [500, 200, 500, 200]
    created, _ = endpoint_and_delivery(http_receiver.url)
    ids = [services.deliveries_record(envelope=envelope(event_id=f"evt_r{n}"))[0] for n in range(3)]

    assert [deliver(i) for i in ids] == ["retry", "delivered", "retry"]
    assert WebhookEndpoint.objects.get(public_id=created.id).enabled is True


# --- SSRF guard -------------------------------------------------------------------------------------


@pytest.fixture
def fake_dns(monkeypatch):
    """Names under .test resolve to chosen addresses (patching the OS resolver, not our code)."""
    real = socket.getaddrinfo
    names = {"internal.test": "10.0.0.1", "loop.test": "127.0.0.1", "meta.test": "169.254.169.254", "v6.test": "::1"}

    def getaddrinfo(host, port, *args, **kwargs):
        if host in names:
            ip = names[host]
            family = socket.AF_INET6 if ":" in ip else socket.AF_INET
            address = (ip, port, 0, 0) if family == socket.AF_INET6 else (ip, port)
            return [(family, socket.SOCK_STREAM, 6, "", address)]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize(
    "host",
    ["10.0.0.1", "127.0.0.1", "169.254.169.254", "[::1]", "localhost", "internal.test", "loop.test", "meta.test",
     "v6.test"],
)  # fmt: skip
def test_ssrf_guard_refuses_private_addresses_for_live_tenants(
    webhooks, http_receiver, queued, settings, fake_dns, host
):
    _, delivery_id = endpoint_and_delivery(f"http://{host}:{http_receiver.port}/hooks")
    settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS = False

    assert deliver(delivery_id) == "retry"

    saved = row(delivery_id)
    [attempt] = saved.attempt_log.all()
    assert attempt.status_code is None and attempt.error.startswith("HostRefused: private address")
    assert http_receiver.requests == []


def test_the_checked_address_is_the_one_connected_to(webhooks, http_receiver, queued, monkeypatch):
    """Pinning: one lookup (the guard's), then a connection to that address, Host header kept."""
    real, lookups = socket.getaddrinfo, []

    def getaddrinfo(host, port, *args, **kwargs):
        lookups.append(host)
        return real("127.0.0.1" if host == "hooks.test" else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    _, delivery_id = endpoint_and_delivery(f"http://hooks.test:{http_receiver.port}/hooks")

    assert deliver(delivery_id) == "delivered"
    assert lookups.count("hooks.test") == 1
    assert http_receiver.requests[0]["headers"]["Host"] == f"hooks.test:{http_receiver.port}"


def test_no_redirect_is_followed(webhooks, http_receiver, queued):
    http_receiver.statuses = [302]
    _, delivery_id = endpoint_and_delivery(http_receiver.url)

    assert deliver(delivery_id) == "retry"
    assert len(http_receiver.requests) == 1 and row(delivery_id).last_status_code == 302


# --- rotation ---------------------------------------------------------------------------------------


def test_rotation_overlap_signs_with_both_secrets(webhooks, http_receiver, queued):
    created, delivery_id = endpoint_and_delivery(http_receiver.url)
    rotated = api.endpoint_secret_rotate(endpoint_id=created.id, overlap_seconds=3600)
    assert rotated.secret != created.secret and rotated.secret.startswith("whsec_")

    assert deliver(delivery_id) == "delivered"

    request = http_receiver.requests[0]
    header = request["headers"]["FinFactory-Signature"]
    assert header.count("v1=") == 2
    for secret in (rotated.secret, created.secret):
        assert signature_verify(payload=request["body"], header=header, secret=secret)

    # After the overlap only the new secret signs.
    WebhookEndpoint.objects.filter(public_id=created.id).update(previous_secret_expires_at=timezone.now())
    api.delivery_redeliver(endpoint_id=created.id, delivery_id=delivery_id)
    assert deliver(delivery_id) == "delivered"
    header = http_receiver.requests[1]["headers"]["FinFactory-Signature"]
    assert header.count("v1=") == 1
    assert signature_verify(payload=http_receiver.requests[1]["body"], header=header, secret=rotated.secret)
    assert not signature_verify(payload=http_receiver.requests[1]["body"], header=header, secret=created.secret)


def test_rest_rotates_the_secret(rest, module_tenant):
    endpoint = rest.post(ENDPOINTS, {"url": "https://hooks.example.com/r", "events": ["wallet.*"]}, format="json")
    endpoint = endpoint.json()

    response = rest.post(f"{ENDPOINTS}/{endpoint['id']}/rotate-secret", {"overlap_seconds": 60}, format="json")
    bad = rest.post(f"{ENDPOINTS}/{endpoint['id']}/rotate-secret", {"overlap_seconds": -1}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"id", "object", "secret", "previous_secret_expires_at"}
    assert body["secret"].startswith("whsec_") and body["secret"] != endpoint["secret"]
    assert body["previous_secret_expires_at"] is not None
    assert bad.status_code == 400
    with in_tenant(module_tenant.tenant):
        assert api.endpoint_secret(endpoint_id=endpoint["id"]) == body["secret"]


# --- end to end -------------------------------------------------------------------------------------


def test_an_outbox_event_reaches_the_receiver(webhooks, http_receiver, queued):
    listener = api.endpoint_create(url=http_receiver.url, events=["webhook_endpoint.*"])
    other = api.endpoint_create(url="https://hooks.example.com/other", events=["wallet.*"])  # publishes .created

    drain()

    [saved] = [
        d
        for d in WebhookDelivery.objects.filter(endpoint__public_id=listener.id)
        if json.loads(d.payload)["data"]["endpoint_id"] == other.id
    ]
    assert deliver(saved.public_id) == "delivered"
    [request] = [r for r in http_receiver.requests if json.loads(r["body"])["data"]["endpoint_id"] == other.id]
    sent = json.loads(request["body"])
    assert sent["type"] == "webhook_endpoint.created" and sent["aggregate_id"] == other.id
    assert set(sent) == {
        "id", "type", "version", "tenant", "occurred_at", "aggregate_type", "aggregate_id", "sequence", "data",
        "request_id", "actor",
    }  # fmt: skip
    assert signature_verify(
        payload=request["body"], header=request["headers"]["FinFactory-Signature"], secret=listener.secret
    )
