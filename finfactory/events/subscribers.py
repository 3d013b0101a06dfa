"""Subscriptions by event name. Contexts register handlers in `consumers.py`:

    @subscribe("wallet.created", name="notifications.welcome")
    def send_welcome(event: Event) -> None: ...

A handler runs in its own savepoint with an inbox row (handler name, event id) that is unique,
so a redelivered event has no second effect. Handlers do database work only; anything that
leaves the process (HTTP, e-mail) is queued from the handler as its own retried task.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Event:
    """The envelope every subscriber and every API reader sees."""

    id: str
    type: str
    version: int
    tenant: str
    occurred_at: datetime
    aggregate_type: str
    aggregate_id: str
    sequence: int
    data: dict
    request_id: str
    actor: str

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "type": self.type,
            "version": self.version,
            "tenant": self.tenant,
            "occurred_at": self.occurred_at.isoformat().replace("+00:00", "Z"),
            "aggregate_type": self.aggregate_type,
            "aggregate_id": self.aggregate_id,
            "sequence": self.sequence,
            "data": self.data,
            "request_id": self.request_id,
            "actor": self.actor,
        }


Handler = Callable[[Event], None]


@dataclass(frozen=True)
class Subscription:
    name: str
    event_type: str  # an exact name, or a prefix wildcard such as "wallet.*"
    handler: Handler

    def matches(self, event_type: str) -> bool:
        if self.event_type.endswith(".*"):
            return event_type.startswith(self.event_type[:-1])
        return self.event_type == event_type


_subscriptions: dict[str, Subscription] = {}


def subscribe(event_type: str, *, name: str) -> Callable[[Handler], Handler]:
    def decorator(handler: Handler) -> Handler:
        register_subscription(Subscription(name=name, event_type=event_type, handler=handler))
        return handler

    return decorator


def register_subscription(subscription: Subscription) -> None:
    existing = _subscriptions.get(subscription.name)
    if existing is not None and existing.handler is not subscription.handler:
        raise ValueError(f"a subscriber named {subscription.name!r} is already registered")
    _subscriptions[subscription.name] = subscription


def unregister_subscription(name: str) -> None:
    _subscriptions.pop(name, None)


def subscriptions_for(event_type: str) -> list[Subscription]:
    return sorted((s for s in _subscriptions.values() if s.matches(event_type)), key=lambda s: s.name)


def subscription_get(name: str) -> Subscription | None:
    return _subscriptions.get(name)


def subscriptions() -> list[Subscription]:
    return sorted(_subscriptions.values(), key=lambda s: s.name)
