"""The kernel's own event: a probe operators (and `bench_outbox`) publish to measure delivery."""

from finfactory.events.catalog import EventType

OUTBOX_PROBE = EventType(
    name="outbox.probe",
    version=1,
    aggregate_type="probe",
    description="A synthetic event with one no-op subscriber: end-to-end delivery lag, measured.",
    schema={
        "type": "object",
        "properties": {"n": {"type": "integer"}, "run": {"type": "string"}},
        "required": ["n"],
        "additionalProperties": False,
    },
)

EVENTS = [OUTBOX_PROBE]
