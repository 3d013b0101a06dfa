"""The event catalog: every event a context publishes, with its version and payload schema.

Contexts declare `EVENTS = [EventType(...)]` in `contexts/<ctx>/events.py`; the kernel loads
every installed app's `events` module at start-up. Publishing an unregistered name, or a payload
its schema refuses, raises before anything is written.
"""

from finfactory.events.catalog import (
    EventType,
    InvalidEventPayload,
    UnknownEventType,
    catalog,
    event_type_get,
    register_event_types,
    unregister_event_type,
    validate_payload,
)

__all__ = [
    "EventType",
    "InvalidEventPayload",
    "UnknownEventType",
    "catalog",
    "event_type_get",
    "register_event_types",
    "unregister_event_type",
    "validate_payload",
]
