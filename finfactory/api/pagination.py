"""Cursor pagination: `{data, has_more, next_cursor}`, newest first, keyset on (created_at, id).

A cursor names the last row seen, so rows inserted meanwhile never shift a page (no duplicates,
no gaps), and each page is one index range scan however deep the client has paged.
"""

from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from finfactory.errors import FieldError, InvalidInput
from finfactory.pages import time_keyset_rows

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


def keyset_page(queryset, *, limit: int, cursor: str | None, field: str = "created_at"):
    """Rows of one page (newest first by `field`, then id) and the next cursor, or None at the end."""
    return time_keyset_rows(queryset, limit=limit, cursor=cursor, field=field)


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
