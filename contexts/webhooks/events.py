"""Events webhooks publishes (through the outbox, in the transaction of the change). Ids, the URL's
host and the subscribed patterns only: never the secret, the path or the query of the URL.
Consumers subscribe by name and must not import this."""

from finfactory.events.catalog import EventType
from finfactory.events.schema import strict_object

_ENDPOINT = {
    "endpoint_id": {"type": "string", "pattern": "^we_[0-9a-z]{26}$"},
    "url_host": {"type": "string", "minLength": 1, "maxLength": 253},
    "events": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1, "maxItems": 100},
}

WEBHOOK_ENDPOINT_CREATED = EventType(
    name="webhook_endpoint.created",
    version=1,
    aggregate_type="webhook_endpoint",
    description="The tenant registered a webhook endpoint for these event type patterns.",
    schema=strict_object(_ENDPOINT),
)

WEBHOOK_ENDPOINT_DELETED = EventType(
    name="webhook_endpoint.deleted",
    version=1,
    aggregate_type="webhook_endpoint",
    description="The tenant deleted a webhook endpoint: nothing is delivered to it any more.",
    schema=strict_object(_ENDPOINT),
)

WEBHOOK_ENDPOINT_DISABLED = EventType(
    name="webhook_endpoint.disabled",
    version=1,
    aggregate_type="webhook_endpoint",
    description=(
        "Deliveries kept failing, so the endpoint was disabled automatically: nothing is sent to it until the "
        "tenant enables it again (the notifications context tells the tenant)."
    ),
    schema=strict_object(
        {
            **_ENDPOINT,
            "reason": {"type": "string", "minLength": 1, "maxLength": 500},
            "failure_streak": {"type": "integer", "minimum": 1},
            "failing_since": {"type": "string", "format": "date-time"},
        }
    ),
)

EVENTS = [WEBHOOK_ENDPOINT_CREATED, WEBHOOK_ENDPOINT_DELETED, WEBHOOK_ENDPOINT_DISABLED]
