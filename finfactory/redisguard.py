"""A circuit breaker for the places that use Redis as an optimisation (key cache, rate limits).

Redis down must not slow every request by a socket timeout: after one failure, the guarded calls
skip Redis for `seconds` and answer their fallback at once, and the outage is logged once rather
than once per request. The first call after the pause tries Redis again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import structlog

logger = structlog.get_logger(__name__)
T = TypeVar("T")


class RedisBreaker:
    def __init__(self, name: str, *, seconds: float = 5.0):
        self.name, self.seconds = name, seconds
        self.open_until = 0.0
        self.warned = False

    @property
    def is_open(self) -> bool:
        return time.monotonic() < self.open_until

    def call(self, action: Callable[[], T], fallback: T) -> T:
        """`action()`, or `fallback` if Redis failed within the last `seconds` or fails now."""
        if self.is_open:
            return fallback
        try:
            result = action()
        except Exception as exc:  # any Redis or socket error: degrade, do not fail the request
            self.open_until = time.monotonic() + self.seconds
            if not self.warned:
                self.warned = True
                logger.warning("redis.unavailable", use=self.name, error=f"{type(exc).__name__}: {exc}"[:200],
                               retry_in_seconds=self.seconds)  # fmt: skip
            return fallback
        if self.warned:
            self.warned = False
            logger.info("redis.available_again", use=self.name)
        return result
