"""Faults of the infrastructure, with real processes: the API served by gunicorn over PostgreSQL, a
private redis-server killed and started again, real Celery workers absent, SIGKILLed, restarted.

- The database connection dropped in the middle of a money movement: 503 problem+json, nothing
  written, and the retry with the same Idempotency-Key moves the money once.
- Redis down: money still moves, promptly; the events wait in the outbox; /readyz names what is
  down; once Redis is back the beat sweep and a worker deliver every event exactly once.
- Workers down for minutes (one SIGKILLed holding a claimed batch, its broker message unacked past
  the visibility timeout): every event delivered exactly once, in order per aggregate.
"""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

import psycopg
import pytest
import redis
import requests
from django.conf import settings as django_settings
from django.db import connection, transaction

from contexts.fraud.models import Assessment
from contexts.identity import api as identity_api
from contexts.ledger.models import Account, Hold, JournalEntry
from contexts.products import api as products_api
from contexts.products.models import Operation, Transaction, WalletAccount
from contexts.wallets.models import LimitReservation
from finfactory.audit.models import AuditRecord
from finfactory.events.subscribers import subscriptions_for
from finfactory.idempotency.models import IdempotencyRecord
from finfactory.outbox.drain import WAKE_KEY
from finfactory.outbox.models import InboxRecord, OutboxEvent, OutboxStatus
from finfactory.outbox.publish import publish
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant

from .conftest import wait_for
from .fault_consumers import EFFECT_TABLE_SQL

pytestmark = pytest.mark.system

SWEEP_TASK = "finfactory.outbox.tasks.sweep_outboxes"
OUTAGE = timedelta(minutes=10)
# What the workers load: the tests' event type, and a recorder subscribed to every event family.
WORKER_INCLUDE = "tests.system.fault_consumers,tests.system.fault_recorder"


# --- helpers ---------------------------------------------------------------------------------------


class Api:
    """A client product talking HTTP to the server with the tenant's first API key."""

    def __init__(self, url: str, secret: str):
        self.url = url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {secret}"

    def post(self, path: str, body: dict, key: str) -> requests.Response:
        return self.session.post(f"{self.url}/v1/{path}", json=body, headers={"Idempotency-Key": key}, timeout=60)

    def get(self, path: str) -> requests.Response:
        return self.session.get(f"{self.url}/v1/{path}", timeout=60)

    def posted(self, wallet_id: str) -> int:
        response = self.get(f"wallets/{wallet_id}/balance")
        assert response.status_code == 200, response.text
        return response.json()["posted"]


def created(response: requests.Response) -> dict:
    assert response.status_code == 201, (response.status_code, response.text[:1000])
    return response.json()


def open_wallets(tenant, count: int, *, fund: int = 0) -> list[str]:
    """Wallets of new customers (KYC none: cash-ins and transfers need no more); the first one
    funded by a cash-in of `fund` through the product."""
    ids = []
    with in_tenant(tenant), acting_as("system:test"):
        for n in range(count):
            email = f"fault{n}-{uuid.uuid4().hex[:6]}@example.org"
            customer = identity_api.customer_create(first_name="Fault", last_name=f"Test{n}", email=email)
            ids.append(products_api.wallet_open(customer_id=customer.id, currency="PHP").id)
        if fund:
            moved = products_api.cash_in(
                wallet_id=ids[0], amount=fund, currency="PHP", reference=f"fund-{uuid.uuid4()}"
            )
            assert moved.status == "succeeded", moved
    connection.set_schema_to_public()
    return ids


def posted(tenant, wallet_id: str) -> int:
    with in_tenant(tenant):
        balance = products_api.balance_get(wallet_id=wallet_id).posted
    connection.set_schema_to_public()
    return balance


def writes(tenant) -> dict[str, int]:
    """Every kind of row a money movement writes, counted."""
    with in_tenant(tenant):
        counts = {
            "operations": Operation.objects.count(),
            "journal_entries": JournalEntry.objects.count(),
            "transactions": Transaction.objects.count(),
            "holds": Hold.objects.count(),
            "limit_reservations": LimitReservation.objects.count(),
            "risk_assessments": Assessment.objects.count(),
            "outbox_events": OutboxEvent.objects.count(),
            "idempotency_records": IdempotencyRecord.objects.count(),
            "audit_records": AuditRecord.objects.count(),
        }
    connection.set_schema_to_public()
    return counts


def create_effect_table(tenant) -> None:
    with in_tenant(tenant), connection.cursor() as cursor:
        cursor.execute(EFFECT_TABLE_SQL)
    connection.set_schema_to_public()


def undelivered(tenant) -> int:
    with in_tenant(tenant):
        count = OutboxEvent.objects.exclude(status=OutboxStatus.DELIVERED).count()
    connection.set_schema_to_public()
    return count


def assert_every_event_delivered_once_in_order(tenant) -> list[tuple[str, str]]:
    """Every event of the tenant is delivered; each (subscriber, event) has one inbox row and the
    recorders one effect row (`fault_effect` has no unique key: a second delivery would be a second
    row); per aggregate, the effects follow the sequence. Returns the (event id, type) pairs."""
    with in_tenant(tenant), connection.cursor() as cursor:
        events = list(OutboxEvent.objects.values_list("event_id", "type", "status"))
        cursor.execute("SELECT handler, event_id, aggregate_id, sequence FROM fault_effect ORDER BY id")
        effects = cursor.fetchall()
        inbox = Counter(InboxRecord.objects.values_list("event_id", flat=True))
    connection.set_schema_to_public()
    assert events
    assert Counter(status for _, _, status in events) == {OutboxStatus.DELIVERED: len(events)}
    per_pair = Counter((handler, event_id) for handler, event_id, _, _ in effects)
    assert [pair for pair, n in per_pair.items() if n > 1] == []
    assert {event_id for _, event_id in per_pair} == {event_id for event_id, _, _ in events}
    # The platform's own subscribers too (the recorders are only known to the workers).
    assert {event_id: inbox[event_id] for event_id, _, _ in events} == {
        event_id: len(subscriptions_for(type)) + (not type.startswith("faults.")) for event_id, type, _ in events
    }
    order = defaultdict(list)
    for handler, _, aggregate_id, sequence in effects:
        order[(handler, aggregate_id)].append(sequence)
    assert [key for key, sequences in order.items() if sequences != sorted(sequences)] == []
    return [(event_id, type) for event_id, type, _ in events]


def beat_sends_sweep(queue: str, broker_url: str | None = None) -> None:
    """What celery beat does every OUTBOX_SWEEP_SECONDS: send the sweep task, without arguments,
    from no tenant (a worker runs it in the public schema; it visits every tenant)."""
    from celery import current_app

    connection.set_schema_to_public()
    if broker_url is None:
        current_app.send_task(SWEEP_TASK, queue=queue)
        return
    with current_app.connection_for_write(broker_url) as broker:
        current_app.send_task(SWEEP_TASK, queue=queue, connection=broker)


def age_pending_events(tenant, by: timedelta = OUTAGE) -> None:
    """As if the pending events had waited `by`: published, and due, that long ago."""
    with in_tenant(tenant), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE outbox_outboxevent SET occurred_at = occurred_at - %s, next_attempt_at = next_attempt_at - %s"
            " WHERE status = 'pending'",
            [by, by],
        )
    connection.set_schema_to_public()


def expire_wake_keys(client: redis.Redis, tenant) -> None:
    """The wake-up dedupe keys live OUTBOX_WAKE_DEDUPE_SECONDS: minutes later none is left."""
    for key in client.scan_iter(match=WAKE_KEY.format(schema=tenant.schema_name, partition="*")):
        client.delete(key)


def publish_steps(tenant, count: int, *, aggregates: int, transactions: int = 1) -> list[str]:
    """`count` faults.step events over `aggregates` aggregates, in `transactions` commits."""
    ids = []
    per = count // transactions
    with in_tenant(tenant), acting_as("system:test"):
        for t in range(transactions):
            with transaction.atomic():
                ids += [
                    publish("faults.step", f"agg-{n % aggregates}", {"n": n}).id for n in range(t * per, (t + 1) * per)
                ]
    connection.set_schema_to_public()
    return ids


# --- 1. the database connection dropped mid-request ------------------------------------------------


@contextmanager
def account_row_locked(tenant, wallet_id: str):
    """Hold the wallet's ledger account row lock on a connection of the test's own (as a long
    posting on the same account would), so a money movement on it waits inside its transaction.
    Yields the locking backend's pid."""
    db = connection.settings_dict
    with in_tenant(tenant):
        account_id = WalletAccount.objects.get(wallet_id=wallet_id).account_id
    connection.set_schema_to_public()
    table = f'"{tenant.schema_name}".{Account._meta.db_table}'
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], application_name="faults-locker"
    ) as locker:
        pid = locker.execute("SELECT pg_backend_pid()").fetchone()[0]
        locked = locker.execute(f"SELECT 1 FROM {table} WHERE public_id = %s FOR UPDATE", [account_id])
        assert locked.fetchone() == (1,)
        yield pid
        locker.rollback()


def waiting_for(locker_pid: int) -> list[tuple[int, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, query FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
            [locker_pid],
        )
        return cursor.fetchall()


def terminate_mid_request(api: Api, tenant, path: str, body: dict, key: str, locked_wallet: str):
    """POST in a thread; once its backend waits on the locked account (the request is inside its
    transaction: operation, limit reservation and risk assessment written, the posting started),
    terminate that backend as a database failover would. Returns the response."""
    with ThreadPoolExecutor(max_workers=1) as pool, account_row_locked(tenant, locked_wallet) as locker_pid:
        pending = pool.submit(api.post, path, body, key)
        ((victim, query),) = wait_for(lambda: waiting_for(locker_pid), seconds=30, what="the request to block")
        assert "ledger_post" in query, query
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [victim])
            assert cursor.fetchone()[0] is True
        return pending.result(timeout=60)


@pytest.fixture
def unconsumed_queue(settings):
    """Wake-ups of this test (its process and its server) go to a queue no worker reads; emptied
    afterwards."""
    name = f"faults-unconsumed-{uuid.uuid4().hex[:8]}"
    settings.OUTBOX_QUEUE = name
    yield name
    client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    client.delete(name)
    client.close()


def test_a_database_connection_dropped_mid_request_is_a_503_and_the_retry_moves_money_once(
    committed_tenants, web_server, unconsumed_queue
):
    acme = committed_tenants("dbdrop")
    payer, payee = open_wallets(acme.tenant, 2, fund=100_000)
    start = posted(acme.tenant, payer)
    # Long enough that the request waits for the test, not for its own lock timeout.
    api = Api(web_server(LEDGER_LOCK_TIMEOUT_MS=60_000, OUTBOX_QUEUE=unconsumed_queue), acme.api_key.secret)

    transfer = {"source_wallet_id": payer, "destination_wallet_id": payee, "amount": 20_000, "currency": "PHP"}
    cash_in = {"wallet_id": payee, "amount": 5_000, "currency": "PHP"}
    moved = {}
    for path, body, locked in [("transfers", transfer, payee), ("cash-ins", cash_in, payee)]:
        key = f"{path}-{uuid.uuid4().hex}"
        before = writes(acme.tenant)

        response = terminate_mid_request(api, acme.tenant, path, body, key, locked)

        assert response.status_code == 503, response.text
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.headers["Retry-After"] == "1"
        problem = response.json()
        assert (problem["code"], problem["status"]) == ("service_unavailable", 503)
        assert problem["request_id"] == response.headers["X-Request-Id"]
        # Nothing of the request was written: no operation, entry, transaction, reservation,
        # assessment, event — and no idempotency record to answer the retry with the failure.
        assert writes(acme.tenant) == before

        retried = created(api.post(path, body, key))
        replayed = api.post(path, body, key)

        assert retried["status"] == "succeeded"
        assert (replayed.status_code, replayed.headers.get("Idempotent-Replayed")) == (201, "true")
        assert replayed.json() == retried
        after = writes(acme.tenant)
        assert after["operations"] == before["operations"] + 1
        assert after["journal_entries"] == before["journal_entries"] + 1
        assert after["idempotency_records"] == before["idempotency_records"] + 1
        with in_tenant(acme.tenant):
            assert JournalEntry.objects.filter(external_ref__startswith=f"{retried['id']}:").count() == 1
        connection.set_schema_to_public()
        moved[path] = retried

    transfer, cash_in = moved["transfers"], moved["cash-ins"]
    assert api.posted(payer) == start - 20_000 - transfer["fee"]
    assert api.posted(payee) == 20_000 + 5_000 - cash_in["fee"]


# --- 2. Redis down -----------------------------------------------------------------------------------


def redis_env(url: str) -> dict[str, str]:
    """Every setting that names a Redis: the cache, the broker, the config version counters."""
    return {"REDIS_URL": url, "CACHE_URL": url, "CELERY_BROKER_URL": url, "TENANTCONFIG_REDIS_URL": url}


def test_money_moves_while_redis_is_down_and_every_event_is_delivered_once_when_it_is_back(
    committed_tenants, web_server, redis_server, celery_workers, unconsumed_queue
):
    acme = committed_tenants("noredis")
    create_effect_table(acme.tenant)
    payer, payee = open_wallets(acme.tenant, 2, fund=100_000)
    start = posted(acme.tenant, payer)
    server = web_server(OUTBOX_QUEUE=celery_workers.queue, READINESS_TIMEOUT_SECONDS=0.5, **redis_env(redis_server.url))
    api = Api(server, acme.api_key.secret)
    assert api.posted(payer) == start  # pools and caches warmed up while Redis answered

    # Hung first (connections accepted, nothing answered): the probe still answers, and says so.
    redis_server.pause()
    began = time.monotonic()
    hung = requests.get(f"{server}/readyz", timeout=60)
    assert time.monotonic() - began < 10, "the readiness probe waits on a hung Redis"
    assert (hung.status_code, hung.json()["degraded"]) == (200, ["broker", "redis"])

    redis_server.kill()
    began = time.monotonic()
    cash_in = created(api.post("cash-ins", {"wallet_id": payee, "amount": 5_000, "currency": "PHP"}, "ci-1"))
    transfer = created(
        api.post(
            "transfers",
            {"source_wallet_id": payer, "destination_wallet_id": payee, "amount": 20_000, "currency": "PHP"},
            "tr-1",
        )
    )
    elapsed = time.monotonic() - began
    ready = requests.get(f"{server}/readyz", timeout=30)

    assert elapsed < 5, f"two money movements took {elapsed:.1f} s with Redis down: something waits on it"
    assert (cash_in["status"], transfer["status"]) == ("succeeded", "succeeded")
    assert api.posted(payer) == start - 20_000 - transfer["fee"]
    assert api.posted(payee) == 5_000 - cash_in["fee"] + 20_000
    assert ready.status_code == 200  # still ready: it just moved money
    readiness = ready.json()
    assert (readiness["status"], readiness["degraded"]) == ("degraded", ["broker", "redis"])
    assert readiness["checks"]["database"]["ok"] is True
    with in_tenant(acme.tenant):
        waiting = set(OutboxEvent.objects.filter(status=OutboxStatus.PENDING).values_list("aggregate_id", flat=True))
    connection.set_schema_to_public()
    assert {cash_in["id"], transfer["id"]} <= waiting  # operation.succeeded of both, among others

    redis_server.start()  # back on the same port, empty (its data was lost with the crash)
    celery_workers(include=WORKER_INCLUDE, **redis_env(redis_server.url))
    beat_sends_sweep(celery_workers.queue, redis_server.url)
    wait_for(lambda: undelivered(acme.tenant) == 0, seconds=60, what="the outbox to drain")
    # The API's wake-ups reach the worker again (no sweep is sent for this one).
    again = created(api.post("cash-ins", {"wallet_id": payee, "amount": 1_000, "currency": "PHP"}, "ci-2"))
    wait_for(lambda: undelivered(acme.tenant) == 0, seconds=30, what="the wake-up after Redis came back")

    delivered = assert_every_event_delivered_once_in_order(acme.tenant)
    types = Counter(type for _, type in delivered)
    assert types["operation.succeeded"] == 4  # the funding, the two while Redis was down, the last
    assert again["status"] == "succeeded"


# --- 3. workers down for minutes ---------------------------------------------------------------------


@pytest.fixture
def outbox_tenant(committed_tenants, celery_workers, settings):
    """A committed tenant whose commits (in this process) wake the test's private worker queue."""
    settings.OUTBOX_QUEUE = celery_workers.queue
    tenant = committed_tenants("outage").tenant
    create_effect_table(tenant)
    return tenant


def claim_holders(tenant) -> list[int]:
    """Backends (other than this one) holding row locks of the tenant's outbox: a claimed batch."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT l.pid FROM pg_locks l WHERE l.database = (SELECT oid FROM pg_database"
            " WHERE datname = current_database()) AND l.relation = %s::regclass AND l.mode = 'RowShareLock'"
            " AND l.pid <> pg_backend_pid()",
            [f'"{tenant.schema_name}".outbox_outboxevent'],
        )
        return [pid for (pid,) in cursor.fetchall()]


def unacked_for(client: redis.Redis, queue: str) -> list[bytes]:
    """Delivery tags of `queue`'s messages taken by a worker and not acknowledged: kombu's Redis
    transport keeps them in the `unacked` hash until acknowledged, or restored to the queue by a
    worker once older than the visibility timeout (the lease of a taken message)."""
    return [tag for tag, payload in client.hgetall("unacked").items() if json.loads(payload)[2] == queue]


def test_workers_down_for_minutes_one_killed_mid_batch_past_its_lease_lose_and_double_no_event(
    outbox_tenant, celery_workers
):
    queue = celery_workers.queue
    client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    # No worker runs: the events of these commits wait in the outbox, their wake-ups in the broker.
    published = publish_steps(outbox_tenant, 240, aggregates=12, transactions=6)
    wait_for(lambda: client.llen(queue) > 0, seconds=10, what="the wake-ups to be queued")

    # A worker comes back, takes a wake-up, claims that partition's batch (each delivery takes it
    # 50 ms: the batch lasts seconds) and is SIGKILLed in the middle of it.
    doomed = celery_workers(include=WORKER_INCLUDE, FAULTS_HANDLER_PAUSE_SECONDS="0.05")
    wait_for(lambda: claim_holders(outbox_tenant), seconds=60, what="the worker to claim a batch")
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait(timeout=10)
    # Its transaction died with its connection: the claim is gone; its message stays taken.
    wait_for(lambda: not claim_holders(outbox_tenant), seconds=10, what="the dead worker's claim to go")
    (tag,) = unacked_for(client, queue)
    assert undelivered(outbox_tenant) > 0
    published += publish_steps(outbox_tenant, 60, aggregates=12, transactions=3)  # still no worker

    # Minutes pass: the events wait, the wake-up dedupe keys expire, beat sends a sweep every
    # OUTBOX_SWEEP_SECONDS (5) that no worker takes, and the dead worker's message grows older than
    # the broker's visibility timeout: the next worker to start puts it back in the queue.
    age_pending_events(outbox_tenant)
    expire_wake_keys(client, outbox_tenant)
    for _ in range(int(OUTAGE.total_seconds() // 5)):
        beat_sends_sweep(queue)
    visibility = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    client.zadd("unacked_index", {tag: time.time() - visibility - OUTAGE.total_seconds()})

    celery_workers(include=WORKER_INCLUDE)
    wait_for(lambda: undelivered(outbox_tenant) == 0, seconds=60, what="the outbox to drain")
    wait_for(
        lambda: not client.hexists("unacked", tag) and client.llen(queue) == 0,
        seconds=60,
        what="the backlog, and the dead worker's restored message, to be worked off",
    )

    delivered = assert_every_event_delivered_once_in_order(outbox_tenant)
    assert {event_id for event_id, _ in delivered} == set(published)
