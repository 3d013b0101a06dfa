"""Tenant and Domain live in the public schema; every other table lives in the tenant's schema."""

from django.db import models
from django_tenants.models import DomainMixin, TenantMixin


class Tenant(TenantMixin):
    """A fintech client. Its schema holds its customers, money and events."""

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    auto_create_schema = True
    auto_drop_schema = False

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class Domain(DomainMixin):
    """A host name that routes browser requests (the back-office admin) to a tenant."""

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain
