"""Test data builders (factory-boy) and tenant helpers shared by the suite."""

import uuid

from finfactory.platform.services import tenant_provision


def unique_slug(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def provision_tenant(prefix: str = "t", **kwargs):
    """A real tenant (schema cloned from the template) and its first API key's secret."""
    kwargs.setdefault("name", f"{prefix.title()} Pay")
    return tenant_provision(slug=unique_slug(prefix), **kwargs)
