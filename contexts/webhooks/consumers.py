"""The fan-out: every event of the catalog becomes one delivery per enabled endpoint whose patterns
match it (services.deliveries_record), in the drain's transaction; the sends are queued after it
commits. Webhooks learns from events only: it imports no context.

The kernel's subscriptions take exact names or `<prefix>.*`, not a bare `*`, so one subscription
is registered per top-level prefix of the catalog as it stands when the apps are ready
(finfactory.events registers every app's EVENTS before it imports the consumers modules). Each
event matches exactly one of them, hence one inbox row per event.
"""

from __future__ import annotations

from finfactory.events.catalog import catalog
from finfactory.events.subscribers import Event, subscribe

from . import services

NAME = "webhooks.fan_out"


def fan_out(event: Event) -> None:
    services.deliveries_record(envelope=event.as_dict())


def prefixes() -> list[str]:
    return sorted({event_type.name.split(".", 1)[0] for event_type in catalog()})


for _prefix in prefixes():
    subscribe(f"{_prefix}.*", name=f"{NAME}.{_prefix}")(fan_out)
