"""Request ids: accept a well-formed inbound `X-Request-Id`, otherwise mint one."""

import re
import uuid
from contextvars import ContextVar

REQUEST_ID_HEADER = "X-Request-Id"
# Ids from proxies and clients (UUIDs, W3C trace ids, ULIDs, `req_…`) fit this; anything else —
# too long, spaces, control characters — is replaced, so logs and responses never carry it.
_VALID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")

_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def is_valid_request_id(value: str | None) -> bool:
    return bool(value) and _VALID.fullmatch(value) is not None


def new_request_id() -> str:
    return f"req_{uuid.uuid4().hex}"


def current_request_id() -> str | None:
    """The id of the request (or task) being served in this context, if any."""
    return _current.get()


def set_current_request_id(value: str | None):
    return _current.set(value)


def reset_current_request_id(token) -> None:
    _current.reset(token)
