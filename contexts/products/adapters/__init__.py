"""Payout adapters by name (a product template's `routing.payout`)."""

from __future__ import annotations

from .base import PayoutAdapter
from .sandbox import SandboxPayouts

_ADAPTERS: dict[str, type[PayoutAdapter]] = {"sandbox": SandboxPayouts}


def payout_adapter(name: str) -> PayoutAdapter:
    try:
        return _ADAPTERS[name]()
    except KeyError:
        raise LookupError(f"no payout adapter named {name!r}") from None
