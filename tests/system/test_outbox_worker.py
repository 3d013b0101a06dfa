"""The outbox drained by real Celery worker processes over the Redis broker (never eager mode)."""

import os
import random
import signal
from collections import Counter, defaultdict

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection, transaction

from finfactory.audit.models import AuditRecord
from finfactory.outbox.drain import wake_drain
from finfactory.outbox.models import InboxRecord, OutboxEvent, OutboxStatus
from finfactory.outbox.publish import publish
from finfactory.outbox.tasks import sweep_outboxes
from finfactory.tenancy.context import in_tenant
from tests.outbox_consumers import POISON_FIXED_KEY

from .conftest import wait_for

pytestmark = pytest.mark.system


@pytest.fixture
def tenant(committed_tenants, celery_workers, settings):
    settings.OUTBOX_QUEUE = celery_workers.queue  # this process's wake-ups go to the test's workers
    return committed_tenants("outbox").tenant


def publish_events(tenant, count: int, *, aggregates: int = 10, type: str = "test.counted", **extra) -> list[str]:
    with in_tenant(tenant), transaction.atomic():
        return [publish(type, f"thing-{n % aggregates}", {"n": n, **extra}).id for n in range(count)]


def pending(tenant) -> int:
    with in_tenant(tenant):
        return OutboxEvent.objects.exclude(status=OutboxStatus.DELIVERED).count()


def effect_counts(tenant, action: str = "test.effect") -> Counter:
    with in_tenant(tenant):
        return Counter(AuditRecord.objects.filter(action=action).values_list("target_id", flat=True))


def test_a_committed_event_reaches_the_subscriber_and_a_rolled_back_one_never(tenant, celery_workers):
    celery_workers()
    with in_tenant(tenant), pytest.raises(RuntimeError), transaction.atomic():
        lost = publish("test.counted", "thing-x", {"n": 0}).id
        raise RuntimeError("rolled back")
    (kept,) = publish_events(tenant, 1)

    wait_for(lambda: pending(tenant) == 0 and effect_counts(tenant)[kept] == 1, seconds=60, what="delivery")

    with in_tenant(tenant):
        assert not OutboxEvent.objects.filter(event_id=lost).exists()
    assert effect_counts(tenant)[lost] == 0


def _holds_a_claim() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
            " WHERE c.relname = 'outbox_outboxevent' AND l.mode = 'RowShareLock' AND l.pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0] > 0


def test_kill_9_during_a_claimed_batch_loses_nothing_and_doubles_nothing(tenant, celery_workers):
    """10 rounds: kill -9 the worker while it holds a claimed batch, start a new one."""
    with in_tenant(tenant), connection.cursor() as cursor:
        cursor.execute("CREATE TABLE test_effect (event_id text NOT NULL)")  # no unique key: doubles would show
    published: list[str] = []
    worker = celery_workers(OUTBOX_BATCH_SIZE=5000)
    killed_mid_batch = 0
    for _ in range(10):
        published += publish_events(tenant, 2000, aggregates=50, type="test.cheap")
        try:
            wait_for(_holds_a_claim, seconds=30, what="the worker to claim a batch")
        except AssertionError:
            pass  # the worker was faster than the poll: this round kills an idle worker
        else:
            killed_mid_batch += 1
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        worker = celery_workers(OUTBOX_BATCH_SIZE=5000)
        with in_tenant(tenant):
            sweep_outboxes.run()  # the beat sweep: picks up what the dead worker held

    wait_for(lambda: pending(tenant) == 0, seconds=180, what="every event to be delivered")

    with in_tenant(tenant), connection.cursor() as cursor:
        cursor.execute("SELECT event_id, count(*) FROM test_effect GROUP BY event_id")
        counts = dict(cursor.fetchall())
        inbox = InboxRecord.objects.filter(handler="test.cheap_effect").count()
    assert len(published) == 20_000
    assert killed_mid_batch >= 7
    assert set(counts) == set(published)  # every event delivered…
    assert set(counts.values()) == {1}  # …and no effect doubled
    assert inbox == len(published)


def test_order_per_aggregate_holds_with_two_workers_of_four_processes(tenant, celery_workers):
    for _ in range(2):
        celery_workers(pool="prefork", concurrency=4, OUTBOX_BATCH_SIZE=50)
    rng = random.Random(7)
    for _ in range(8):
        with in_tenant(tenant), transaction.atomic():
            for _ in range(150):
                publish("test.counted", f"agg-{rng.randrange(40)}", {"n": 0})
    with in_tenant(tenant):
        for _ in range(8):  # more drains than partitions: concurrent drains of one partition too
            wake_drain(tenant.schema_name, force=True)

    wait_for(lambda: pending(tenant) == 0, seconds=120, what="every event to be delivered")

    with in_tenant(tenant):
        rows = AuditRecord.objects.filter(action="test.effect").order_by("id").values_list("target_type", "after")
        sequences = defaultdict(list)
        for aggregate, after in rows:
            sequences[aggregate].append(after["sequence"])
    assert sum(len(s) for s in sequences.values()) == 1200
    assert all(seq == list(range(1, len(seq) + 1)) for seq in sequences.values()), sequences


def test_a_poison_event_dead_letters_in_the_worker_and_replays_once_after_the_fix(tenant, celery_workers):
    from django.core.management import call_command

    celery_workers(OUTBOX_MAX_ATTEMPTS=3, OUTBOX_BACKOFF_BASE_SECONDS=0.05, OUTBOX_BACKOFF_MAX_SECONDS=0.2)
    (bad,) = publish_events(tenant, 1, poison=True)

    def dead():
        with in_tenant(tenant):
            sweep_outboxes.run()  # what beat does every few seconds: retries are due quickly here
            return OutboxEvent.objects.filter(event_id=bad, status=OutboxStatus.DEAD).exists()

    wait_for(dead, seconds=60, what="the poison event to be dead-lettered")
    redis.Redis.from_url(django_settings.REDIS_URL).set(POISON_FIXED_KEY.format(event_id=bad), "1", ex=300)
    call_command("outbox_replay", "--tenant", tenant.slug, "--event", bad)
    wait_for(lambda: pending(tenant) == 0, seconds=60, what="the replayed event to be delivered")

    assert effect_counts(tenant, "test.poison_ok")[bad] == 1
    assert effect_counts(tenant, "test.effect")[bad] == 1
    with in_tenant(tenant):
        assert OutboxEvent.objects.get(event_id=bad).attempts == 0
