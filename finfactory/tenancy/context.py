"""The one place that runs code in a tenant's schema, or in every tenant's schema in turn.

Commands, beat tasks and operators' tools use these helpers; nothing else loops over tenants.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from django.db import connection
from django_tenants.utils import get_public_schema_name, schema_context

from finfactory.tenancy.models import Tenant, TenantStatus

T = TypeVar("T")


class UnknownTenant(LookupError):
    pass


def tenant_get(identifier: str | Tenant) -> Tenant:
    """A tenant by slug or schema name."""
    if isinstance(identifier, Tenant):
        return identifier
    with schema_context(get_public_schema_name()):
        tenant = Tenant.objects.filter(slug=identifier).first() or Tenant.objects.filter(schema_name=identifier).first()
    if tenant is None:
        raise UnknownTenant(f"no tenant {identifier!r}")
    return tenant


@contextmanager
def in_tenant(identifier: str | Tenant) -> Iterator[Tenant]:
    """Run the block with the connection in the tenant's schema; restore the previous one after."""
    tenant = tenant_get(identifier)
    previous = connection.tenant if hasattr(connection, "tenant") else None
    connection.set_tenant(tenant)
    try:
        yield tenant
    finally:
        if previous is not None and previous.schema_name != get_public_schema_name():
            connection.set_tenant(previous)
        else:
            connection.set_schema_to_public()


@contextmanager
def in_public_schema() -> Iterator[None]:
    with schema_context(get_public_schema_name()):
        yield


def tenants(*, include_suspended: bool = True) -> list[Tenant]:
    with schema_context(get_public_schema_name()):
        queryset = Tenant.objects.order_by("slug")
        if not include_suspended:
            queryset = queryset.filter(status=TenantStatus.ACTIVE)
        return list(queryset)


def for_each_tenant(fn: Callable[[Tenant], T], *, include_suspended: bool = True) -> dict[str, T]:
    """Call fn(tenant) inside each tenant's schema, in slug order; returns results by slug."""
    results: dict[str, T] = {}
    for tenant in tenants(include_suspended=include_suspended):
        with in_tenant(tenant):
            results[tenant.slug] = fn(tenant)
    return results


def current_schema() -> str:
    return connection.schema_name
