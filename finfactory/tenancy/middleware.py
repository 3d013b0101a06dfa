"""Resolve the tenant of a browser request from its host name."""

import structlog
from django.db import connection
from django_tenants.middleware.main import TenantMainMiddleware

# Paths whose tenant the API key decides (config.urls_api, mounted the same in the tenant and the
# public URL configurations): the host is not looked up for them.
API_PATH_PREFIXES = ("/v1/", "/platform/", "/internal/")


class TenantHostMiddleware(TenantMainMiddleware):
    """django-tenants' host routing, plus the tenant bound to every log line of the request.

    A host that is no tenant's domain is served from the public schema with the public URL
    configuration (platform admin, product API); API calls then pick their tenant from the API
    key. `request.tenant` is always set, to the public placeholder tenant in that case.
    """

    def process_request(self, request):
        if request.path.startswith(API_PATH_PREFIXES):
            # The API key picks the tenant (finfactory.apikeys.authentication); looking the host up
            # would cost every API request a query and change nothing.
            connection.set_schema_to_public()
            return self.no_tenant_found(request, None)
        response = super().process_request(request)
        tenant = getattr(request, "tenant", None)
        if tenant is not None:
            structlog.contextvars.bind_contextvars(tenant=tenant.schema_name)
        return response

    def no_tenant_found(self, request, hostname):
        request.tenant = connection.tenant  # django-tenants' placeholder for the public schema
        self.setup_url_routing(request=request, force_public=True)
