"""Pages of a context's list functions (`api.py`): a keyset on one ordered column, an opaque cursor.

`keyset_page(queryset, limit=, cursor=, kind=, item=)` is one index range scan however deep a
client has paged, and rows inserted meanwhile never shift a page. The cursor names the last
position seen and the kind of list it came from, so a cursor of one list is refused by another.
`time_keyset_page` is the same keyed on (a timestamp, id), for lists filtered by time ranges
(an index on (…, timestamp, id) serves both the range and the order); the HTTP layer's
pagination (finfactory.api.pagination) uses its cursor codec.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from finfactory.errors import FieldError, InvalidInput

MAX_LIMIT = 100


@dataclass(frozen=True)
class Page:
    items: tuple
    next_cursor: str | None

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None


def page_limit(value: object, field: str = "limit") -> int:
    """An integer page size from 1 to MAX_LIMIT, else InvalidInput naming `field`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LIMIT:
        raise InvalidInput(
            f"{field} must be an integer from 1 to {MAX_LIMIT}.",
            errors=[FieldError(field, f"Must be an integer from 1 to {MAX_LIMIT}.", "invalid_limit")],
        )
    return value


def cursor_encode(kind: str, position: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{position}".encode()).decode().rstrip("=")


def cursor_decode(cursor: object, kind: str) -> int:
    """The position a cursor of this `kind` names, else InvalidInput `invalid_cursor`."""
    try:
        if not isinstance(cursor, str):
            raise ValueError
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
        prefix, _, number = raw.partition(":")
        if prefix != kind or not number.isdigit():
            raise ValueError
        return int(number)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            "cursor is not one this API returned.",
            code="invalid_cursor",
            errors=[FieldError("cursor", "Use next_cursor from a previous page.", "invalid_cursor")],
        ) from exc


def keyset_page(
    queryset, *, limit: int, cursor: object, kind: str, item: Callable, field: str = "pk", newest_first: bool = True
) -> Page:
    """One page of `queryset` ordered by `field` (an integer column, unique within the queryset),
    newest first unless `newest_first` is False, each row turned into a DTO by `item`."""
    limit = page_limit(limit)
    if cursor is not None and cursor != "":
        position = cursor_decode(cursor, kind)
        queryset = queryset.filter(**{f"{field}__{'lt' if newest_first else 'gt'}": position})
    rows = list(queryset.order_by(f"-{field}" if newest_first else field)[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    last = getattr(rows[-1], "pk" if field == "pk" else field) if rows else None
    return Page(items=tuple(item(row) for row in rows), next_cursor=cursor_encode(kind, last) if has_more else None)


def time_cursor_encode(moment: datetime, pk: int) -> str:
    raw = json.dumps([moment.isoformat(), pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def time_cursor_decode(cursor: object) -> tuple[datetime, int]:
    try:
        if not isinstance(cursor, str):
            raise ValueError
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        moment = datetime.fromisoformat(created_at)
        if not isinstance(pk, int) or moment.tzinfo is None:
            raise ValueError
        return moment, pk
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            "cursor is not one this API returned.",
            code="invalid_cursor",
            errors=[FieldError("cursor", "Use next_cursor from a previous page.", "invalid_cursor")],
        ) from exc


def time_keyset_rows(queryset, *, limit: int, cursor: object, field: str = "created_at") -> tuple[list, str | None]:
    """Rows of one page, newest first by (`field`, id), and the next cursor (None at the end)."""
    queryset = queryset.order_by(f"-{field}", "-pk")
    if cursor is not None and cursor != "":
        moment, pk = time_cursor_decode(cursor)
        # (field, id) < (moment, pk), with the bound on `field` spelled out so that the index on
        # (…, field, id) is entered at the cursor rather than scanned from the top.
        queryset = queryset.filter(**{f"{field}__lte": moment}).filter(Q(**{f"{field}__lt": moment}) | Q(pk__lt=pk))
    rows = list(queryset[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    return rows, (time_cursor_encode(getattr(rows[-1], field), rows[-1].pk) if has_more else None)


def time_keyset_page(queryset, *, limit: int, cursor: object, item: Callable, field: str = "created_at") -> Page:
    rows, next_cursor = time_keyset_rows(queryset, limit=page_limit(limit), cursor=cursor, field=field)
    return Page(items=tuple(item(row) for row in rows), next_cursor=next_cursor)
