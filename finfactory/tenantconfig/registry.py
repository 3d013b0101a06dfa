"""The configuration keys the code knows: registered once per process, in an AppConfig.ready().

A key's definition (kind, default, bounds) lives in code, next to the code that reads it; the
database holds only values that differ from the default (globally or for one tenant).
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

KINDS = ("bool", "int", "str", "json")
KEY_MAX_LENGTH = 100
# A stored value is read into every process's memory: keep values small.
VALUE_MAX_BYTES = 64 * 1024
# `<owner>.<name>`, each part lower_snake: `products.cash_out_enabled`, `ledger.posting.batch_size`.
_KEY = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")


@dataclass(frozen=True)
class ConfigDefinition:
    key: str
    kind: str
    default: Any
    description: str
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple | None = None

    def problem(self, value: Any) -> str | None:
        """Why `value` is not acceptable for this key, or None if it is."""
        if value is None:
            return "A value is required (null is not a value: unset the key instead)."
        if self.kind == "bool" and type(value) is not bool:
            return "Must be true or false."
        if self.kind == "int" and (not isinstance(value, int) or isinstance(value, bool)):
            return "Must be an integer."
        if self.kind == "str" and not isinstance(value, str):
            return "Must be a string."
        if self.kind == "json" and not _plain_json(value):
            return "Must be JSON: objects with string keys, arrays, strings, finite numbers, booleans, null."
        if self.minimum is not None and value < self.minimum:
            return f"Must be at least {self.minimum}."
        if self.maximum is not None and value > self.maximum:
            return f"Must be at most {self.maximum}."
        if self.choices is not None and value not in self.choices:
            return f"Must be one of {', '.join(json.dumps(choice) for choice in self.choices)}."
        if len(json.dumps(value, ensure_ascii=False).encode()) > VALUE_MAX_BYTES:
            return f"Must be at most {VALUE_MAX_BYTES} bytes of JSON."
        return None


def _plain_json(value: Any, depth: int = 0) -> bool:
    """True for what JSON round-trips unchanged (no tuples, no non-string keys, no NaN)."""
    if depth > 32:
        return False
    if value is None or isinstance(value, bool | int | str):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_plain_json(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain_json(v, depth + 1) for k, v in value.items())
    return False


# Read without the lock on the hot path (a dict lookup is atomic); changed under it.
_definitions: dict[str, ConfigDefinition] = {}
_lock = threading.Lock()
# Called after every (un)registration: the value cache drops what it validated against the old set.
_listeners: list[Callable[[], None]] = []


def config_register(
    key: str,
    *,
    kind: str,
    default: Any,
    description: str,
    minimum: int | None = None,
    maximum: int | None = None,
    choices: Iterable | None = None,
) -> ConfigDefinition:
    """Declare a configuration key. Call it from your AppConfig.ready(), once per process.

    Registering the same definition again is a no-op; a different definition under the same key
    raises ValueError, as does a malformed key, an unknown kind or a default the definition itself
    refuses. `minimum`/`maximum` apply to int keys, `choices` to int and str keys.
    """
    if not isinstance(key, str) or len(key) > KEY_MAX_LENGTH or not _KEY.fullmatch(key):
        raise ValueError(f"config key {key!r}: dotted lower_snake (`context.name`), at most {KEY_MAX_LENGTH} chars")
    if kind not in KINDS:
        raise ValueError(f"config key {key!r}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if not isinstance(description, str) or not description.strip():
        raise ValueError(f"config key {key!r}: a description is required")
    if (minimum is not None or maximum is not None) and kind != "int":
        raise ValueError(f"config key {key!r}: minimum/maximum apply to int keys only")
    for bound in (minimum, maximum):
        if bound is not None and (not isinstance(bound, int) or isinstance(bound, bool)):
            raise ValueError(f"config key {key!r}: minimum/maximum must be integers")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise ValueError(f"config key {key!r}: minimum {minimum} is above maximum {maximum}")
    if choices is not None:
        choices = tuple(choices)
        if kind not in ("int", "str") or not choices:
            raise ValueError(f"config key {key!r}: choices are a non-empty list, for int and str keys only")
    definition = ConfigDefinition(
        key=key,
        kind=kind,
        default=default,
        description=description.strip(),
        minimum=minimum,
        maximum=maximum,
        choices=choices,
    )
    if choices is not None:
        unbounded = ConfigDefinition(key=key, kind=kind, default=default, description=description)
        for choice in choices:
            if unbounded.problem(choice) is not None:
                raise ValueError(f"config key {key!r}: choice {choice!r} is not a valid {kind}")
    problem = definition.problem(default)
    if problem is not None:
        raise ValueError(f"config key {key!r}: default {default!r} refused: {problem}")
    with _lock:
        existing = _definitions.get(key)
        if existing is not None:
            if existing != definition:
                raise ValueError(f"config key {key!r} is already registered with another definition: {existing}")
            return existing
        _definitions[key] = definition
    _changed()
    return definition


def config_unregister(key: str) -> None:
    """Forget a key (tests). Unknown keys are ignored."""
    with _lock:
        removed = _definitions.pop(key, None)
    if removed is not None:
        _changed()


def config_definition(key: str) -> ConfigDefinition | None:
    return _definitions.get(key)


def config_definitions() -> list[ConfigDefinition]:
    """Every registered key, sorted by key."""
    return [_definitions[key] for key in sorted(_definitions)]


def on_registry_change(listener: Callable[[], None]) -> None:
    _listeners.append(listener)


def _changed() -> None:
    for listener in list(_listeners):
        listener()
