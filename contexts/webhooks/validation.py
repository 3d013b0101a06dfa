"""Checks of caller input: InvalidInput (400 `validation_error`) naming the field, with a stable
per-field code, before anything is written.

URL rules: absolute http(s), ≤ 2048 characters, ASCII without spaces (international names in
punycode), a syntactically valid host, no `user:password@`, no `#fragment`; `https` unless
WEBHOOKS_ALLOW_HTTP; no loopback / private / link-local / reserved IP literal (nor `localhost`)
unless WEBHOOKS_ALLOW_PRIVATE_HOSTS. Hosts are not resolved here: the DNS-resolving SSRF guard
belongs to delivery, which checks the address it actually connects to.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

from finfactory.errors import FieldError, InvalidInput
from finfactory.events.catalog import UnknownEventType, catalog, event_type_get

from .models import MAX_URL_LENGTH

MAX_PATTERNS = 100
MAX_DESCRIPTION = 500
ALL_EVENTS = "*"

_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)\Z")
_HEX_LABEL = re.compile(r"^0x[0-9a-f]*\Z")
_EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+\Z")
_EVENT_PREFIX = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*\Z")


def invalid(field: str, message: str, code: str = "invalid") -> InvalidInput:
    return InvalidInput(f"{field}: {message}", errors=[FieldError(field, message, code)])


# --- URL ----------------------------------------------------------------------------------------


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _hostname_valid(host: str) -> bool:
    name = host[:-1] if host.endswith(".") else host
    if not name or len(name) > 253:
        return False
    labels = name.split(".")
    if not all(_LABEL.match(label) for label in labels):
        return False
    # No top-level domain is numeric: `127.1`, `2130706433`, `0177.0.0.1`, `0x7f.1` are IPv4
    # addresses to most HTTP clients (inet_aton), in spellings meant to slip past a check.
    return not (labels[-1].isdigit() or _HEX_LABEL.match(labels[-1]))


def _private(host: str, ip) -> bool:
    if ip is None:
        name = host.rstrip(".")
        return name == "localhost" or name.endswith(".localhost")  # RFC 6761: always loopback
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def url(value: object, field: str = "url") -> str:
    if value is None or value == "":
        raise invalid(field, "This field is required.", "required")
    if not isinstance(value, str):
        raise invalid(field, "An absolute http(s) URL.", "invalid_url")
    if len(value) > MAX_URL_LENGTH:
        raise invalid(field, f"At most {MAX_URL_LENGTH} characters.", "too_long")
    if not value.isascii() or not value.isprintable() or " " in value:
        raise invalid(field, "ASCII without spaces: punycode the host, percent-encode the rest.", "invalid_url")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise invalid(field, "An absolute http(s) URL.", "invalid_url") from None
    if parts.scheme not in ("http", "https") or not value.lower().startswith(f"{parts.scheme}://"):
        raise invalid(field, "An absolute URL starting with https:// (or http://).", "invalid_scheme")
    if "@" in parts.netloc:
        raise invalid(field, "Credentials (user:password@) do not belong in the URL.", "credentials_not_allowed")
    if "#" in value:
        raise invalid(field, "A URL without a #fragment.", "fragment_not_allowed")
    host = parts.hostname or ""
    ip = _ip_literal(host)
    if not host or (ip is None and not _hostname_valid(host)) or port == 0:
        raise invalid(field, "The URL needs a valid host name or IP address.", "invalid_host")
    if parts.scheme == "http" and not settings.WEBHOOKS_ALLOW_HTTP:
        raise invalid(field, "Webhook endpoints must use https://.", "https_required")
    if not settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS and _private(host, ip):
        raise invalid(field, "A loopback, private or reserved address cannot receive webhooks.", "private_host")
    # Scheme and host are case-insensitive: stored in lower case, the rest exactly as given.
    return f"{parts.scheme}://{parts.netloc.lower()}{value[len(parts.scheme) + 3 + len(parts.netloc) :]}"


def url_host(value: str) -> str:
    """The host of a validated URL (lower case, no port, IPv6 without brackets)."""
    return urlsplit(value).hostname or ""


def url_redacted(value: str) -> str:
    """The URL without its query, which may carry a token: what audit records keep."""
    parts = urlsplit(value)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "<redacted>" if parts.query else "", ""))


# --- event type patterns ------------------------------------------------------------------------


def pattern_known(pattern: str, names: set[str]) -> bool:
    """`*`, an exact catalog name, or `<prefix>.*` whose prefix starts at least one catalog name."""
    if pattern == ALL_EVENTS:
        return True
    if pattern.endswith(".*"):
        prefix = pattern[:-1]  # "wallet."
        return bool(_EVENT_PREFIX.match(prefix[:-1])) and any(name.startswith(prefix) for name in names)
    try:
        event_type_get(pattern)
    except UnknownEventType:
        return False
    return True


def event_patterns(value: object, field: str = "events") -> tuple[str, ...]:
    """The patterns in their order, duplicates removed. Every unknown one is named (`events[2]`)."""
    if value is None:
        raise invalid(field, "This field is required.", "required")
    if not isinstance(value, list | tuple):
        raise invalid(field, 'A list of event types, e.g. ["wallet.created", "qr.*"] or ["*"].')
    if not value:
        raise invalid(field, 'At least one event type (or "*" for all).', "required")
    if len(value) > MAX_PATTERNS:
        raise invalid(field, f"At most {MAX_PATTERNS} event types.", "too_many")
    names = {event_type.name for event_type in catalog()}
    errors: list[FieldError] = []
    patterns: list[str] = []
    for index, item in enumerate(value):
        where = f"{field}[{index}]"
        if not isinstance(item, str):
            errors.append(FieldError(where, "An event type name (a string).", "invalid"))
        elif not pattern_known(item, names):
            errors.append(
                FieldError(where, f"{item[:100]!r} is not an event type of the catalog.", "unknown_event_type")
            )
        elif item not in patterns:
            patterns.append(item)
    if errors:
        raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors[:5]), errors=errors)
    return tuple(patterns)


def event_type(value: object, field: str = "event_type") -> str:
    if not isinstance(value, str) or not _EVENT_NAME.match(value):
        raise invalid(field, "An event type name such as wallet.created.")
    return value


def matching_patterns(event_type: str) -> list[str]:
    """Every pattern that matches `event_type`: `*`, its prefixes' wildcards, itself."""
    parts = event_type.split(".")
    return [ALL_EVENTS, *(".".join(parts[:n]) + ".*" for n in range(1, len(parts))), event_type]


def pattern_matches(pattern: str, event_type: str) -> bool:
    return pattern in matching_patterns(event_type)


# --- other fields -------------------------------------------------------------------------------


def description(value: object, field: str = "description") -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not value.isprintable():
        raise invalid(field, "Printable text.")
    if len(value) > MAX_DESCRIPTION:
        raise invalid(field, f"At most {MAX_DESCRIPTION} characters.", "too_long")
    return value


def endpoint_id_text(value: object, field: str = "endpoint_id") -> str:
    if not isinstance(value, str):
        raise invalid(field, "A webhook endpoint id (we_…).")
    return value
