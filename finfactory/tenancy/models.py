"""Tenant and Domain live in the public schema; every other table lives in the tenant's schema."""

from django.db import models
from django_tenants.models import DomainMixin, TenantMixin


class TenantStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"


class TenantEnvironment(models.TextChoices):
    """A sandbox tenant moves test money through sandbox providers and takes only `ff_test_` keys;
    a live tenant moves real money and takes only `ff_live_` keys. A client going live gets a new,
    live tenant: sandbox data never shares a schema with real money."""

    SANDBOX = "sandbox", "Sandbox"
    LIVE = "live", "Live"


class Tenant(TenantMixin):
    """A fintech client. Its schema holds its customers, money and events."""

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=TenantStatus.choices, default=TenantStatus.ACTIVE)
    product_template = models.CharField(max_length=64, default="stored_value_wallet")
    environment = models.CharField(
        max_length=8, choices=TenantEnvironment.choices, default=TenantEnvironment.SANDBOX, editable=False
    )
    # Per-scope request limits overriding settings.API_RATE_LIMITS, e.g. {"money:move": "50/s"}.
    rate_limits = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    suspended_at = models.DateTimeField(null=True, blank=True)

    # Provisioning (finfactory.platform.services.tenant_provision) creates the schema itself, by
    # cloning the migrated template schema inside the same transaction as this row.
    auto_create_schema = False
    auto_drop_schema = False

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def is_active(self) -> bool:
        return self.status == TenantStatus.ACTIVE


class Domain(DomainMixin):
    """A host name that routes browser requests (the back-office admin) to a tenant."""

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain
