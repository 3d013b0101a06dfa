"""The `/v1/` product API, mounted in both URL configurations: the API key decides the tenant,
whatever host the request came to."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("v1/schema", SpectacularAPIView.as_view(urlconf="config.urls_tenant"), name="api-schema"),
    path("v1/docs", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
