"""Who is acting and under which request id, for the code running now (request or task).

Set by the request middleware and the API authentication; read by audit, outbox and logs, so
services need not thread these values through every call.
"""

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

REQUEST_ID_HEADER = "X-Request-Id"
# Ids from proxies and clients (UUIDs, W3C trace ids, ULIDs, `req_…`) fit this; anything else —
# too long, spaces, control characters — is replaced, so logs and responses never carry it.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_actor: ContextVar[str | None] = ContextVar("actor", default=None)


def is_valid_request_id(value: str | None) -> bool:
    return bool(value) and _VALID_REQUEST_ID.fullmatch(value) is not None


def new_request_id() -> str:
    return f"req_{uuid.uuid4().hex}"


def current_request_id() -> str | None:
    """The id of the request (or task) being served in this context, if any."""
    return _request_id.get()


def current_actor() -> str | None:
    """Who acts: `apikey:<prefix>`, `platform_key:<prefix>`, `user:<username>`, `system:<name>`."""
    return _actor.get()


def set_current_request_id(value: str | None):
    return _request_id.set(value)


def reset_current_request_id(token) -> None:
    _request_id.reset(token)


def set_current_actor(value: str | None):
    return _actor.set(value)


@contextmanager
def acting_as(actor: str, *, request_id: str | None = None) -> Iterator[None]:
    """Run a block as `actor` (commands, tasks): what it records names this actor."""
    actor_token = _actor.set(actor)
    request_token = _request_id.set(request_id or current_request_id() or new_request_id())
    try:
        yield
    finally:
        _request_id.reset(request_token)
        _actor.reset(actor_token)
