"""Events notifications publishes (through the outbox, in the transaction of the change). Ids,
kind and channel only: never an address or the message text. Consumers subscribe by name and
must not import this."""

from finfactory.events.catalog import EventType
from finfactory.events.schema import strict_object

from .models import Kind

_ID = {"type": "string", "minLength": 1, "maxLength": 100}
_NOTIFICATION = {
    "notification_id": {"type": "string", "pattern": "^ntf_[0-9a-z]{26}$"},
    "source_event_id": _ID,
    "customer_id": _ID,
    "kind": {"enum": list(Kind.values)},
    "channel": {"enum": ["email", "sms", "push"]},
    "attempts": {"type": "integer", "minimum": 0},
}


def _event(name: str, description: str, extra: dict | None = None) -> EventType:
    return EventType(
        name=name,
        version=1,
        aggregate_type="notification",
        description=description,
        schema=strict_object({**_NOTIFICATION, **(extra or {})}),
    )


NOTIFICATION_SENT = _event("notification.sent", "The channel's provider accepted the notification.")
NOTIFICATION_FAILED = _event(
    "notification.failed",
    "The channel refused the notification for good (e.g. an invalid number): it was not retried.",
    {"error_code": {"type": "string", "maxLength": 64}},
)
NOTIFICATION_DEAD_LETTERED = _event(
    "notification.dead_lettered",
    "The notification could not be sent (retries exhausted, or its template failed to render): "
    "parked for operators, who may retry it.",
    {"error_code": {"type": "string", "maxLength": 64}},
)

EVENTS = [NOTIFICATION_SENT, NOTIFICATION_FAILED, NOTIFICATION_DEAD_LETTERED]
