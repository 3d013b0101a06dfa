"""Delivery semantics, run in-process (the worker-process tests are in tests/system)."""

from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from finfactory.audit.models import AuditRecord
from finfactory.outbox.drain import backoff_seconds, drain
from finfactory.outbox.models import InboxRecord, OutboxEvent, OutboxStatus
from finfactory.outbox.publish import publish
from finfactory.tenancy.context import in_tenant
from tests.outbox_consumers import POISON_FIXED_KEY


def effects(action: str, event_id: str) -> int:
    return AuditRecord.objects.filter(action=action, target_id=event_id).count()


def make_due() -> None:
    OutboxEvent.objects.filter(status=OutboxStatus.PENDING).update(next_attempt_at=timezone.now())


@pytest.fixture
def published(tenant):
    def publish_many(*payloads, aggregate="thing-1"):
        with in_tenant(tenant), transaction.atomic():
            return [publish("test.counted", aggregate, payload) for payload in payloads]

    return publish_many


def test_every_subscriber_gets_each_event_once(tenant, published):
    first, second = published({"n": 1}, {"n": 2})

    with in_tenant(tenant):
        result = drain()
        # A redelivery (operator replay, or a batch retried after a crash) has no second effect.
        OutboxEvent.objects.update(status=OutboxStatus.PENDING)
        again = drain()

        assert (result.delivered, again.delivered) == (2, 2)
        assert [effects("test.effect", e.id) for e in (first, second)] == [1, 1]
        assert [effects("test.poison_ok", e.id) for e in (first, second)] == [1, 1]
        assert InboxRecord.objects.count() == 4
        assert set(OutboxEvent.objects.values_list("status", flat=True)) == {"delivered"}


def test_a_failing_handler_does_not_hold_back_the_other_handlers(tenant, published):
    (bad,) = published({"n": 1, "poison": True})

    with in_tenant(tenant):
        result = drain()
        row = OutboxEvent.objects.get(event_id=bad.id)

        assert (result.delivered, result.retried) == (0, 1)
        assert effects("test.effect", bad.id) == 1  # the healthy subscriber took it
        assert effects("test.poison_ok", bad.id) == 0
        assert (row.status, row.attempts) == ("pending", 1)
        assert "test.poison: RuntimeError: poisoned payload" in row.last_error
        assert row.next_attempt_at > timezone.now()


def test_a_failing_event_holds_back_later_events_of_its_aggregate_only(tenant, published):
    bad, later = published({"n": 1, "poison": True}, {"n": 2})
    (elsewhere,) = published({"n": 3}, aggregate="thing-2")

    with in_tenant(tenant):
        drain()
        make_due()
        drain()  # still failing: `later` stays behind it

        assert OutboxEvent.objects.get(event_id=later.id).status == "pending"
        assert effects("test.effect", later.id) == 0
        assert OutboxEvent.objects.get(event_id=elsewhere.id).status == "delivered"

        redis.Redis.from_url(settings.REDIS_URL).set(POISON_FIXED_KEY.format(event_id=bad.id), "1", ex=60)
        make_due()
        drain()

        statuses = dict(OutboxEvent.objects.values_list("event_id", "status"))
        assert statuses[bad.id] == statuses[later.id] == "delivered"
        assert effects("test.effect", bad.id) == effects("test.effect", later.id) == 1
        assert effects("test.poison_ok", bad.id) == 1


def test_a_poison_event_dead_letters_then_replays_exactly_once(tenant, published, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    bad, later = published({"n": 1, "poison": True}, {"n": 2})

    with in_tenant(tenant):
        for _ in range(3):
            drain()
            make_due()
        row = OutboxEvent.objects.get(event_id=bad.id)
        assert (row.status, row.attempts) == ("dead", 3)
        drain()  # a dead letter no longer holds its aggregate back
        assert OutboxEvent.objects.get(event_id=later.id).status == "delivered"

    redis.Redis.from_url(settings.REDIS_URL).set(POISON_FIXED_KEY.format(event_id=bad.id), "1", ex=60)
    call_command("outbox_replay", "--tenant", tenant.slug, "--event", bad.id)
    with in_tenant(tenant):
        drain()
        assert OutboxEvent.objects.get(event_id=bad.id).status == "delivered"
        assert effects("test.poison_ok", bad.id) == 1
        assert effects("test.effect", bad.id) == 1  # delivered once before the dead letter, not again


def test_replay_to_one_handler_delivers_now_and_only_to_it(tenant, published, capsys):
    (event,) = published({"n": 1})
    with in_tenant(tenant):
        drain()
        InboxRecord.objects.filter(handler="test.effect").delete()  # the subscriber rebuilds its state

    call_command("outbox_replay", "--tenant", tenant.slug, "--event", event.id, "--handler", "test.effect")

    with in_tenant(tenant):
        assert effects("test.effect", event.id) == 2
        assert effects("test.poison_ok", event.id) == 1
    assert "replayed 1 event(s) to test.effect; 0 failed" in capsys.readouterr().out


def test_replay_rejects_bad_arguments(tenant):
    with pytest.raises(CommandError, match="--event, or --from and --to"):
        call_command("outbox_replay", "--tenant", tenant.slug)
    with pytest.raises(CommandError, match="no matching events"):
        call_command("outbox_replay", "--tenant", tenant.slug, "--event", "evt_nope")
    with pytest.raises(CommandError, match="no tenant"):
        call_command("outbox_replay", "--tenant", "ghost", "--event", "evt_nope")


@pytest.mark.parametrize("attempts", [1, 2, 5, 10, 30])
def test_backoff_is_exponential_jittered_and_capped(settings, attempts):
    settings.OUTBOX_BACKOFF_BASE_SECONDS, settings.OUTBOX_BACKOFF_MAX_SECONDS = 2.0, 3600.0
    ceiling = min(3600.0, 2.0 * 2 ** (attempts - 1))

    delays = [backoff_seconds(attempts) for _ in range(200)]

    assert all(ceiling * 0.5 <= d <= ceiling for d in delays)
    assert len(set(delays)) > 100  # jittered, not synchronized


def test_status_and_purge_commands(tenant, published, capsys):
    old, fresh = published({"n": 1}, {"n": 2})
    with in_tenant(tenant):
        drain()
        OutboxEvent.objects.filter(event_id=old.id).update(occurred_at=timezone.now() - timedelta(days=40))
    published({"n": 3}, aggregate="waiting")

    call_command("outbox_status", "--json")
    status = __import__("json").loads(capsys.readouterr().out)[tenant.slug]
    call_command("outbox_purge", "--older-than", "30")

    assert (status["pending"], status["delivered"], status["dead"]) == (1, 2, 0)
    with in_tenant(tenant):
        assert sorted(OutboxEvent.objects.values_list("event_id", flat=True)) == sorted(
            [fresh.id, OutboxEvent.objects.get(aggregate_id="waiting").event_id]
        )
