"""Cursor pagination: `{data, has_more, next_cursor}`, newest first, keyset on (created_at, id).

A cursor names the last row seen, so rows inserted meanwhile never shift a page (no duplicates,
no gaps), and each page is one index range scan however deep the client has paged.
"""

import base64
import json
from datetime import datetime

from django.db.models import Q
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from finfactory.errors import FieldError, InvalidInput

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def parse_limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidInput(
            f"limit must be an integer from 1 to {MAX_LIMIT}.",
            errors=[FieldError("limit", f"An integer from 1 to {MAX_LIMIT}.", "invalid")],
        )
    return int(raw)


def encode_cursor(moment: datetime, pk: int) -> str:
    raw = json.dumps([moment.isoformat(), pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
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


def keyset_page(queryset, *, limit: int, cursor: str | None, field: str = "created_at"):
    """Rows of one page (newest first by `field`, then id) and the next cursor, or None at the end."""
    queryset = queryset.order_by(f"-{field}", "-pk")
    if cursor:
        moment, pk = decode_cursor(cursor)
        queryset = queryset.filter(Q(**{f"{field}__lt": moment}) | Q(**{field: moment, "pk__lt": pk}))
    rows = list(queryset[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(getattr(rows[-1], field), rows[-1].pk) if has_more else None
    return rows, next_cursor


class CursorPagination(BasePagination):
    def paginate_queryset(self, queryset, request, view=None):
        limit = parse_limit(request.query_params.get("limit"))
        rows, self.next_cursor = keyset_page(
            queryset,
            limit=limit,
            cursor=request.query_params.get("cursor"),
            field=getattr(view, "cursor_field", "created_at"),
        )
        return rows

    def get_paginated_response(self, data):
        return Response({"data": data, "has_more": self.next_cursor is not None, "next_cursor": self.next_cursor})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["data", "has_more", "next_cursor"],
            "properties": {
                "data": schema,
                "has_more": {"type": "boolean"},
                "next_cursor": {"type": "string", "nullable": True},
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            },
            {
                "name": "cursor",
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": "next_cursor of the previous page",
            },
        ]
