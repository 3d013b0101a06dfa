"""The event type and subscriber of the fault tests (tests/system/test_faults.py), loaded by the
test process (to publish) and by its Celery workers (`celery -I tests.system.fault_consumers`).

Every delivery writes one row in `fault_effect`, a table the test creates in the tenant's schema
with no unique key: a second delivery of an event shows as a second row, and the rows' ids give
the order in which the events were handled. FAULTS_HANDLER_PAUSE_SECONDS (a worker's
environment) makes each delivery take that long, so a test can kill a worker mid-batch.
"""

import os
import time

from django.db import connection

from finfactory.events.catalog import EventType, register_event_types
from finfactory.events.subscribers import Event, subscribe

EFFECT_TABLE_SQL = (
    "CREATE TABLE fault_effect (id bigserial PRIMARY KEY, handler text NOT NULL, event_id text NOT NULL,"
    " type text NOT NULL, aggregate_id text NOT NULL, sequence integer NOT NULL)"
)

FAULT_STEP = EventType(
    name="faults.step",
    version=1,
    aggregate_type="fault_thing",
    schema={
        "type": "object",
        "properties": {"n": {"type": "integer"}},
        "required": ["n"],
        "additionalProperties": False,
    },
)
register_event_types([FAULT_STEP], owner="tests")


def record(handler: str, event: Event) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO fault_effect (handler, event_id, type, aggregate_id, sequence) VALUES (%s, %s, %s, %s, %s)",
            [handler, event.id, event.type, event.aggregate_id, event.sequence],
        )


@subscribe("faults.step", name="faults.effect")
def step_effect(event: Event) -> None:
    pause = float(os.environ.get("FAULTS_HANDLER_PAUSE_SECONDS", "0"))
    if pause:
        time.sleep(pause)
    record("faults.effect", event)
