"""URLs of a tenant's host (ROOT_URLCONF): the product API and the tenant's back-office admin.

`/healthz` and `/readyz` are answered by middleware before URL resolution, on any host.
"""

from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "FinFactory back office"
admin.site.site_title = "FinFactory"

urlpatterns = [
    path("", include("config.urls_api")),
    path("admin/", admin.site.urls),
    # KYC providers' signed callbacks: the host names the tenant, the signature the provider.
    path("callbacks/identity/", include("contexts.identity.rest.urls")),
]

handler404 = "finfactory.api.views.not_found"
handler500 = "finfactory.api.views.server_error"
