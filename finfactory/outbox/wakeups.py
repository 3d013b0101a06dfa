"""Wake-up coalescer: commits ask for a drain; a per-process daemon thread sends the requests.

The commit path only adds the schema to a set (microseconds). The thread, woken at once, sends at
most one wake-up per schema and partition per OUTBOX_WAKE_DEDUPE_SECONDS (Redis SET NX) — a burst
of a thousand commits costs a handful of broker messages. Anything lost (process killed between
commit and send, Redis down) is picked up by the beat sweep.
"""

from __future__ import annotations

import atexit
import os
import threading
import time

import structlog

logger = structlog.get_logger(__name__)
COALESCE_SECONDS = 0.01


class _Coalescer:
    def __init__(self) -> None:
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._signal = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def request(self, schema: str) -> None:
        with self._lock:
            self._pending.add(schema)
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                # First use in this process (or in a forked child, where threads do not survive).
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="outbox-wakeups", daemon=True)
                self._thread.start()
        self._signal.set()

    def flush(self) -> None:
        with self._lock:
            schemas, self._pending = self._pending, set()
        from finfactory.outbox.drain import wake_drain

        for schema in schemas:
            wake_drain(schema)

    def _run(self) -> None:
        while True:
            self._signal.wait()
            time.sleep(COALESCE_SECONDS)  # let a burst of commits share one round of wake-ups
            self._signal.clear()
            try:
                self.flush()
            except Exception:  # never let the thread die; the sweep covers what is missed
                logger.exception("outbox.wakeups_failed")


_coalescer = _Coalescer()


def request_wake(schema: str) -> None:
    _coalescer.request(schema)


def flush_wakes() -> None:
    """Send pending wake-ups now (short-lived processes call this before exiting)."""
    _coalescer.flush()


atexit.register(flush_wakes)
