"""Registry of event types, each validated with a compiled JSON Schema (draft 2020-12)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


class UnknownEventType(LookupError):
    pass


class InvalidEventPayload(ValueError):
    def __init__(self, event_type: str, problems: list[str]):
        self.event_type = event_type
        self.problems = problems
        super().__init__(f"{event_type}: {'; '.join(problems)}")


@dataclass(frozen=True)
class EventType:
    """`name` like `wallet.created`; `aggregate_type` the entity whose history it belongs to."""

    name: str
    version: int
    aggregate_type: str
    schema: dict
    description: str = ""
    owner: str = ""  # the publishing context, e.g. "contexts.wallets"
    _validator: Draft202012Validator = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if not _NAME.match(self.name):
            raise ValueError(f"event name {self.name!r} must be dotted lower_snake_case")
        if not isinstance(self.version, int) or self.version < 1:
            raise ValueError(f"{self.name}: version must be a positive integer")
        try:
            Draft202012Validator.check_schema(self.schema)
        except SchemaError as exc:
            raise ValueError(f"{self.name}: invalid JSON Schema: {exc.message}") from exc
        object.__setattr__(self, "_validator", Draft202012Validator(self.schema))

    def problems(self, data) -> list[str]:
        return [
            f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
            for error in sorted(self._validator.iter_errors(data), key=lambda e: list(e.absolute_path))
        ]


_registry: dict[str, EventType] = {}


def register_event_types(types, *, owner: str = "") -> None:
    for event_type in types:
        existing = _registry.get(event_type.name)
        if existing is not None and existing != event_type:
            raise ValueError(f"event type {event_type.name!r} is registered twice with different contracts")
        _registry[event_type.name] = event_type if not owner or event_type.owner else _with_owner(event_type, owner)


def _with_owner(event_type: EventType, owner: str) -> EventType:
    return EventType(
        name=event_type.name,
        version=event_type.version,
        aggregate_type=event_type.aggregate_type,
        schema=event_type.schema,
        description=event_type.description,
        owner=owner,
    )


def unregister_event_type(name: str) -> None:
    _registry.pop(name, None)


def event_type_get(name: str) -> EventType:
    try:
        return _registry[name]
    except KeyError:
        raise UnknownEventType(f"{name!r} is not in the event catalog") from None


def validate_payload(name: str, data) -> EventType:
    event_type = event_type_get(name)
    problems = event_type.problems(data)
    if problems:
        raise InvalidEventPayload(name, problems)
    return event_type


def catalog() -> list[EventType]:
    return sorted(_registry.values(), key=lambda t: t.name)
