"""URLs of the public schema (PUBLIC_SCHEMA_URLCONF): any host that is not a tenant's domain.

Serves the product API (tenant chosen by API key) and the platform operators' admin.
"""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("config.urls_api")),
    path("admin/", admin.site.urls),
]

handler404 = "finfactory.api.views.not_found"
handler500 = "finfactory.api.views.server_error"
