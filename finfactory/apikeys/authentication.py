"""DRF authentication by API key. The key decides the tenant, whatever the Host header."""

import structlog
from django.db import connection
from django_tenants.utils import get_tenant_model
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied

from finfactory.apikeys.models import KeyKind
from finfactory.apikeys.services import KeyRejected, Principal, api_key_authenticate
from finfactory.request_context import set_current_actor

ACTIVE = "active"  # finfactory.tenancy.models.TenantStatus.ACTIVE (tenancy depends on apikeys, not back)


def _bearer(request) -> str | None:
    header = get_authorization_header(request)
    if not header:
        return None
    try:
        scheme, _, token = header.decode("ascii").partition(" ")
    except UnicodeDecodeError as exc:
        raise AuthenticationFailed("Malformed Authorization header.", code="invalid_api_key") from exc
    if scheme.lower() != "bearer" or not token.strip() or " " in token.strip():
        raise AuthenticationFailed("Use `Authorization: Bearer <api key>`.", code="invalid_api_key")
    return token.strip()


class _KeyAuthentication(BaseAuthentication):
    kind: str = ""

    def authenticate(self, request):
        token = _bearer(request)
        if token is None:
            return None
        try:
            principal = api_key_authenticate(token)
        except KeyRejected as exc:
            raise AuthenticationFailed("The API key is invalid, expired or revoked.", code="invalid_api_key") from exc
        if principal.kind != self.kind:
            raise AuthenticationFailed("This key cannot be used on this API.", code="invalid_api_key")
        self.enter(request, principal)
        set_current_actor(principal.actor)
        structlog.contextvars.bind_contextvars(actor=principal.actor)
        return principal, principal

    def enter(self, request, principal: Principal) -> None:
        pass

    def authenticate_header(self, request):
        return 'Bearer realm="finfactory"'


class ApiKeyAuthentication(_KeyAuthentication):
    """Tenant keys (`ff_test_…`, `ff_live_…`): switch the connection to the key's tenant schema."""

    kind = KeyKind.TENANT

    def enter(self, request, principal: Principal) -> None:
        if not principal.mode_matches_tenant:
            # Issuing refuses such a key; this guards against a tenant's environment changing under it.
            raise AuthenticationFailed(
                f"An ff_{principal.mode}_ key cannot be used on a {principal.tenant_environment} tenant.",
                code="key_mode_mismatch",
            )
        if principal.tenant_status != ACTIVE:
            raise PermissionDenied("The tenant is suspended.", code="tenant_suspended")
        # Built from the cached resolution: no query before the schema is set.
        tenant = get_tenant_model()(
            id=principal.tenant_id,
            slug=principal.tenant_slug,
            schema_name=principal.schema_name,
            status=principal.tenant_status,
            environment=principal.tenant_environment,
            rate_limits=principal.rate_limits,
        )
        connection.set_tenant(tenant)
        request.tenant = tenant
        structlog.contextvars.bind_contextvars(tenant=tenant.schema_name)


class PlatformKeyAuthentication(_KeyAuthentication):
    """Platform operator keys (`ff_platform_…`): stay in the public schema."""

    kind = KeyKind.PLATFORM

    def enter(self, request, principal: Principal) -> None:
        connection.set_schema_to_public()
