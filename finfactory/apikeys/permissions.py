"""Scopes: a view declares `required_scopes = {"GET": "wallets:read", "POST": "wallets:write"}`."""

from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

from finfactory.apikeys.services import Principal


def required_scope(view, method: str) -> str | None:
    scopes = getattr(view, "required_scopes", None) or {}
    return scopes.get(method) or (scopes.get("GET") if method in ("HEAD", "OPTIONS") else None)


class HasScope(BasePermission):
    """Default deny: a method the view names no scope for is refused."""

    def has_permission(self, request, view):
        principal = request.auth
        if not isinstance(principal, Principal):
            return False
        scope = required_scope(view, request.method)
        if scope is None and not hasattr(view, request.method.lower()):
            return True  # the view does not implement the method: DRF answers 405
        if scope is None:
            raise PermissionDenied("This operation is not available to API keys.", code="insufficient_scope")
        if not principal.has_scope(scope):
            raise PermissionDenied(f"The API key lacks the scope {scope!r}.", code="insufficient_scope")
        return True
