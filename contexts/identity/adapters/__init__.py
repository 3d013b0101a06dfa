"""KYC provider adapters behind one interface (base.KycProvider), chosen per tenant.

IDENTITY_KYC_PROVIDER names every tenant's provider; IDENTITY_KYC_PROVIDER_BY_TENANT overrides
it by tenant slug. A submission remembers the provider it was sent to, so changing the setting
does not strand submissions already in flight.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from .base import KycProvider
from .http_vendor import HttpVendorProvider
from .sandbox import SandboxProvider

PROVIDERS: dict[str, type[KycProvider]] = {"sandbox": SandboxProvider, "vendor": HttpVendorProvider}


def provider_get(name: str) -> KycProvider:
    try:
        return PROVIDERS[name]()
    except KeyError:
        raise ImproperlyConfigured(f"unknown KYC provider {name!r}: one of {', '.join(PROVIDERS)}") from None


def provider_name_for_tenant() -> str:
    """The provider of the tenant whose schema is active."""
    tenant = getattr(connection, "tenant", None)
    slug = getattr(tenant, "slug", None)
    name = settings.IDENTITY_KYC_PROVIDER_BY_TENANT.get(slug) or settings.IDENTITY_KYC_PROVIDER
    if name not in PROVIDERS:
        raise ImproperlyConfigured(f"unknown KYC provider {name!r}: one of {', '.join(PROVIDERS)}")
    return name
