"""Sending one delivery: claim, SSRF guard, signed POST, attempt log, retry schedule, auto-disable.

An attempt is three short steps, never a transaction held across the network:
1. claim (one transaction): the delivery must be pending and due; `attempts` + 1, and its
   `next_attempt_at` is pushed one lease ahead, so a concurrent task (the beat's re-queue, a
   duplicate message) finds it not due and leaves it;
2. outside any transaction: resolve the host, refuse private addresses (unless
   WEBHOOKS_ALLOW_PRIVATE_HOSTS), POST to the checked IP (pinned: no second DNS lookup, so no
   rebinding between check and connect), no redirects, no proxies from the environment;
3. record (one transaction): the attempt row; delivered on a 2xx, else the next attempt at
   backoff(n) or `failed` after WEBHOOKS_MAX_ATTEMPTS; the endpoint's failure streak. A streak long
   enough disables the endpoint (services.endpoint_auto_disable, its own transaction).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import random
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util import connection as urllib3_connection

from . import dispatch, services
from .models import DeliveryStatus, WebhookDelivery, WebhookDeliveryAttempt, WebhookEndpoint

logger = structlog.get_logger(__name__)

EXCERPT_BYTES = 1024
METADATA_ADDRESSES = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
USER_AGENT = "FinFactory-Webhooks/1"


# --- schedule -------------------------------------------------------------------------------------


def backoff_base_seconds(attempt: int) -> float:
    """The wait after failed attempt `attempt` (1-based), before jitter: BASE·2^(n-1), capped."""
    return min(settings.WEBHOOKS_BACKOFF_MAX_SECONDS, settings.WEBHOOKS_BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))


def backoff_seconds(attempt: int) -> float:
    """backoff_base_seconds plus up to 10 % jitter (never less: the schedule's span is a floor)."""
    return backoff_base_seconds(attempt) * (1 + random.uniform(0, 0.1))  # noqa: S311 (jitter, not security)


def schedule() -> list[float]:
    """Every wait of a delivery that always fails, before jitter (WEBHOOKS_MAX_ATTEMPTS - 1 waits)."""
    return [backoff_base_seconds(n) for n in range(1, settings.WEBHOOKS_MAX_ATTEMPTS)]


# --- signing --------------------------------------------------------------------------------------


def signature(payload: bytes, secret: str, timestamp: int) -> str:
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + payload, hashlib.sha256).hexdigest()


def signature_header(payload: bytes, secrets: list[str], timestamp: int) -> str:
    """`t=<ts>,v1=<hmac>` — one `v1=` per secret (current first; the previous one during a rotation)."""
    return ",".join([f"t={timestamp}", *(f"v1={signature(payload, secret, timestamp)}" for secret in secrets)])


# --- SSRF guard -----------------------------------------------------------------------------------


class HostRefused(Exception):
    """The URL's host resolves to an address deliveries may not reach (or does not resolve)."""


def address_refused(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip in METADATA_ADDRESSES
        or not ip.is_global
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


def resolve_checked(host: str, port: int) -> str:
    """The address to connect to: every address `host` resolves to must be allowed (one refused
    address refuses the host), unless WEBHOOKS_ALLOW_PRIVATE_HOSTS."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise HostRefused(f"unresolvable: {type(exc).__name__}") from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not addresses:
        raise HostRefused("unresolvable")
    if not settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS:
        refused = [str(ip) for ip in addresses if address_refused(ip)]
        if refused:
            raise HostRefused(f"private address {refused[0]}")
    return str(addresses[0])


def _pinned_new_conn(ip: str):
    def _new_conn(self):
        return urllib3_connection.create_connection(
            (ip, self.port), self.timeout, source_address=self.source_address, socket_options=self.socket_options
        )

    return _new_conn


class PinnedAdapter(HTTPAdapter):
    """Connects to `ip` whatever the URL's host (which still names the Host header, TLS SNI and
    the certificate check): the address the guard checked is the address used."""

    def __init__(self, ip: str):
        self._ip = ip
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        new_conn = _pinned_new_conn(self._ip)
        http_conn = type("PinnedHTTPConnection", (HTTPConnection,), {"_new_conn": new_conn})
        https_conn = type("PinnedHTTPSConnection", (HTTPSConnection,), {"_new_conn": new_conn})
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("PinnedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
            "https": type("PinnedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
        }


# --- one attempt ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    delivery_pk: int
    endpoint_pk: int
    endpoint_id: str
    number: int
    manual: bool
    url: str
    secrets: list
    payload: bytes
    event_id: str
    event_type: str


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str
    latency_ms: int
    excerpt: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _claim(delivery_id: str, now: datetime) -> Claim | str:
    lease = timedelta(seconds=settings.WEBHOOKS_TIMEOUT_SECONDS * 2 + 60)
    with transaction.atomic():
        row = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(public_id=delivery_id)
            .first()
        )
        if row is None:
            return "not_found"
        if row.status != DeliveryStatus.PENDING:
            return row.status
        if row.next_attempt_at is not None and row.next_attempt_at > now:
            return "not_due"
        endpoint = row.endpoint
        if not endpoint.enabled or endpoint.deleted_at is not None:
            row.status, row.next_attempt_at, row.last_error = DeliveryStatus.FAILED, None, "endpoint_disabled"
            row.redelivery_requested = False
            row.save(update_fields=["status", "next_attempt_at", "last_error", "redelivery_requested", "updated_at"])
            return "endpoint_disabled"
        secrets = [endpoint.secret]
        if (
            endpoint.previous_secret
            and endpoint.previous_secret_expires_at
            and endpoint.previous_secret_expires_at > now
        ):
            secrets.append(endpoint.previous_secret)
        manual = row.redelivery_requested
        row.attempts += 1
        row.next_attempt_at = now + lease
        row.redelivery_requested = False
        row.save(update_fields=["attempts", "next_attempt_at", "redelivery_requested", "updated_at"])
        return Claim(
            delivery_pk=row.pk, endpoint_pk=endpoint.pk, endpoint_id=endpoint.public_id, number=row.attempts,
            manual=manual, url=endpoint.url, secrets=secrets, payload=row.payload.encode(), event_id=row.event_id,
            event_type=row.event_type,
        )  # fmt: skip


def _post(claim: Claim) -> Outcome:
    started = time.monotonic()
    parts = urlsplit(claim.url)
    try:
        ip = resolve_checked(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
    except HostRefused as exc:
        return Outcome(None, f"HostRefused: {exc}"[:200], 0, "")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "FinFactory-Signature": signature_header(claim.payload, claim.secrets, int(time.time())),
        "FinFactory-Event-Id": claim.event_id,
        "FinFactory-Event-Type": claim.event_type,
        "FinFactory-Delivery-Attempt": str(claim.number),
    }
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment: it would connect elsewhere than checked
    adapter = PinnedAdapter(ip)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    timeout = settings.WEBHOOKS_TIMEOUT_SECONDS
    try:
        with session.post(
            claim.url, data=claim.payload, headers=headers, timeout=(timeout, timeout), allow_redirects=False,
            stream=True,
        ) as response:  # fmt: skip
            excerpt = next(response.iter_content(EXCERPT_BYTES), b"")[:EXCERPT_BYTES]
            latency = int((time.monotonic() - started) * 1000)
            return Outcome(response.status_code, "", latency, excerpt.decode("utf-8", errors="replace"))
    except Exception as exc:  # any failure to get an answer is one failed attempt
        return Outcome(None, type(exc).__name__, int((time.monotonic() - started) * 1000), "")
    finally:
        session.close()


def _record(claim: Claim, outcome: Outcome, now: datetime) -> tuple[str, float | None, bool]:
    """Returns (delivery status, seconds until the next attempt or None, whether to disable)."""
    with transaction.atomic():
        row = WebhookDelivery.objects.select_for_update(of=("self",)).get(pk=claim.delivery_pk)
        WebhookDeliveryAttempt.objects.create(
            delivery=row, number=claim.number, status_code=outcome.status_code, error=outcome.error,
            latency_ms=outcome.latency_ms, response_excerpt=outcome.excerpt, manual=claim.manual, at=now,
        )  # fmt: skip
        row.last_status_code, row.last_error = outcome.status_code, outcome.error
        delay = None
        if outcome.ok:
            row.status, row.delivered_at, row.next_attempt_at = DeliveryStatus.DELIVERED, now, None
        elif row.redelivery_requested:
            pass  # a redelivery was asked while this attempt ran: it stays due now
        elif row.attempts >= settings.WEBHOOKS_MAX_ATTEMPTS:
            row.status, row.next_attempt_at = DeliveryStatus.FAILED, None
        else:
            delay = backoff_seconds(row.attempts)
            row.status, row.next_attempt_at = DeliveryStatus.PENDING, now + timedelta(seconds=delay)
        row.save()
        endpoints = WebhookEndpoint.objects.filter(pk=claim.endpoint_pk)
        if outcome.ok:
            endpoints.update(failure_streak=0, failing_since=None)
            return row.status, delay, False
        endpoints.filter(failing_since__isnull=True).update(failing_since=now)
        endpoints.update(failure_streak=F("failure_streak") + 1)
        streak, since, enabled = endpoints.values_list("failure_streak", "failing_since", "enabled").get()
    disable = (
        enabled
        and streak >= settings.WEBHOOKS_DISABLE_AFTER_FAILURES
        and (now - since).total_seconds() >= settings.WEBHOOKS_DISABLE_AFTER_SECONDS
    )
    return row.status, delay, disable


def delivery_attempt(delivery_id: str, *, now: datetime | None = None) -> str:
    """One attempt of a delivery of the current tenant, if it is pending and due. Returns what
    happened: `delivered`, `retry`, `failed`, or why nothing was sent (`not_due`, `delivered`…)."""
    now = now or timezone.now()
    claim = _claim(delivery_id, now)
    if isinstance(claim, str):
        return claim
    outcome = _post(claim)
    status, delay, disable = _record(claim, outcome, now)
    logger.info(
        "webhooks.attempt", delivery=delivery_id, number=claim.number, status_code=outcome.status_code,
        error=outcome.error, latency_ms=outcome.latency_ms, result=status,
    )  # fmt: skip
    if disable:
        services.endpoint_auto_disable(endpoint_id=claim.endpoint_id)
    if delay is not None and delay < 3600:
        # Short waits are queued now (countdown); longer ones are queued by the beat when due.
        dispatch.deliver_later(delivery_id, seconds=delay)
    if status == DeliveryStatus.PENDING:
        return "retry" if delay is not None else "redelivery_due"
    return status
