"""Event types and subscribers used by the outbox tests, in this process and in worker processes
(`celery -I tests.outbox_consumers`). Effects are audit records in the tenant's schema, so they
commit or roll back with the delivery, and can be counted per event."""

import redis
from django.conf import settings

from finfactory.audit.services import audit_record
from finfactory.events.catalog import EventType, register_event_types
from finfactory.events.subscribers import Event, subscribe

COUNTED = EventType(
    name="test.counted",
    version=1,
    aggregate_type="thing",
    schema={
        "type": "object",
        "properties": {"n": {"type": "integer"}, "poison": {"type": "boolean"}},
        "required": ["n"],
        "additionalProperties": False,
    },
)
register_event_types([COUNTED], owner="tests")

POISON_FIXED_KEY = "ff:test:poison-fixed:{event_id}"


@subscribe("test.counted", name="test.effect")
def effect(event: Event) -> None:
    audit_record(
        action="test.effect", target_type=event.aggregate_id, target_id=event.id, after={"sequence": event.sequence}
    )


@subscribe("test.*", name="test.poison")
def poison(event: Event) -> None:
    if event.data.get("poison"):
        client = redis.Redis.from_url(settings.REDIS_URL)
        try:
            fixed = client.get(POISON_FIXED_KEY.format(event_id=event.id))
        finally:
            client.close()
        if not fixed:
            raise RuntimeError("poisoned payload")
    audit_record(action="test.poison_ok", target_type=event.aggregate_id, target_id=event.id)


CHEAP = EventType(
    name="test.cheap",
    version=1,
    aggregate_type="thing",
    schema={"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]},
)
register_event_types([CHEAP], owner="tests")


@subscribe("test.cheap", name="test.cheap_effect")
def cheap_effect(event: Event) -> None:
    """One plain row per delivery in `test_effect` (created by the test in the tenant's schema)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO test_effect (event_id) VALUES (%s)", [event.id])
