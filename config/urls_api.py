"""The `/v1/` product API, the `/platform/v1/` operator API and the `/internal/` operator
endpoints of the contexts, mounted in both URL configurations: the API key decides the tenant,
whatever host the request came to."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from finfactory.apikeys import rest as apikeys
from finfactory.outbox import rest as events
from finfactory.platform import rest as platform

urlpatterns = [
    path(
        "v1/schema",
        SpectacularAPIView.as_view(
            urlconf="config.urls_tenant",
            authentication_classes=[],
            permission_classes=[],
            throttle_classes=[],
        ),
        name="api-schema",
    ),
    path(
        "v1/docs",
        SpectacularSwaggerView.as_view(
            url_name="api-schema", authentication_classes=[], permission_classes=[], throttle_classes=[]
        ),
        name="api-docs",
    ),
    path("v1/api-keys", apikeys.ApiKeyListCreateView.as_view(), name="api-keys"),
    path("v1/api-keys/<str:key_id>", apikeys.ApiKeyDetailView.as_view(), name="api-key"),
    path("v1/api-keys/<str:key_id>/revoke", apikeys.ApiKeyRevokeView.as_view(), name="api-key-revoke"),
    path("v1/api-keys/<str:key_id>/rotate", apikeys.ApiKeyRotateView.as_view(), name="api-key-rotate"),
    path("v1/events", events.EventListView.as_view(), name="events"),
    path("v1/events/<str:event_id>", events.EventDetailView.as_view(), name="event"),
    path("v1/", include("contexts.products.rest.urls")),
    path("internal/ledger/", include("contexts.ledger.rest.urls")),
    path("platform/v1/tenants", platform.TenantListCreateView.as_view(), name="platform-tenants"),
    path("platform/v1/tenants/<str:slug>", platform.TenantDetailView.as_view(), name="platform-tenant"),
    path("platform/v1/tenants/<str:slug>/suspend", platform.TenantSuspendView.as_view(), name="platform-suspend"),
    path(
        "platform/v1/tenants/<str:slug>/activate",
        platform.TenantActivateView.as_view(),
        name="platform-activate",
    ),
]
