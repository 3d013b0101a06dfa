"""Provisioning and lifecycle of tenants. All of it runs in the public schema."""

from __future__ import annotations

import time
from dataclasses import dataclass

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from finfactory.apikeys.services import IssuedKey, api_key_create, forget_tenant_keys
from finfactory.audit.services import audit_record
from finfactory.errors import Conflict, FieldError, InvalidInput
from finfactory.tenancy.context import in_tenant
from finfactory.tenancy.models import Tenant, TenantEnvironment, TenantStatus
from finfactory.tenancy.schemas import tenant_schema_create
from finfactory.tenancy.validation import schema_name_for, validate_slug

logger = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Provisioned:
    tenant: Tenant
    api_key: IssuedKey
    schema_created_by: str  # "cloned" from the template, or "migrated" without one
    seconds: float


def _validate(*, name: object, template: object, environment: object) -> None:
    errors = []
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        errors.append(FieldError("name", "A name of 1-200 characters is required.", "invalid"))
    if template not in settings.PRODUCT_TEMPLATES:
        errors.append(
            FieldError("template", f"Known templates: {', '.join(settings.PRODUCT_TEMPLATES)}.", "invalid_template")
        )
    if environment not in TenantEnvironment.values:
        errors.append(FieldError("environment", "Must be sandbox or live.", "invalid"))
    if errors:
        raise InvalidInput("The tenant request is not valid.", code=errors[0].code, errors=errors)


def tenant_provision(
    *,
    slug: str,
    name: str,
    template: str = "stored_value_wallet",
    environment: str = TenantEnvironment.SANDBOX,
    key_mode: str | None = None,
) -> Provisioned:
    """Create a tenant, its schema and its first API key — all of it, or nothing.

    A sandbox tenant's first key is `ff_test_`, a live tenant's `ff_live_` (`key_mode` overrides
    it only to be refused: a key's mode must match its tenant's environment).

    The schema is cloned from the migrated template schema in the same transaction as the tenant
    row and the key, so a failure at any step leaves no schema, no row and no key behind.
    Raises InvalidInput (invalid_slug, reserved_slug, invalid_template) or Conflict (tenant_exists).
    """
    started = time.perf_counter()
    validate_slug(slug)
    _validate(name=name, template=template, environment=environment)
    with schema_context("public"):
        if Tenant.objects.filter(slug=slug).exists():
            raise Conflict(
                f"A tenant {slug!r} already exists.",
                code="tenant_exists",
                errors=[FieldError("slug", "Already taken.", "tenant_exists")],
            )
        try:
            with transaction.atomic():
                tenant = Tenant.objects.create(
                    schema_name=schema_name_for(slug), slug=slug, name=name.strip(), product_template=template,
                    environment=environment,
                )  # fmt: skip
                how = tenant_schema_create(tenant.schema_name)
                state = _state(tenant)
                # The platform's trail and the first link of the tenant's own chain.
                audit_record(action="tenant.provisioned", target_type="tenant", target_id=slug, after=state)
                with in_tenant(tenant):
                    audit_record(action="tenant.provisioned", target_type="tenant", target_id=slug, after=state)
                mode = key_mode or ("live" if environment == TenantEnvironment.LIVE else "test")
                issued = api_key_create(tenant=tenant, name="default", mode=mode)
        except IntegrityError as exc:  # a concurrent provisioning of the same slug won
            raise Conflict(f"A tenant {slug!r} already exists.", code="tenant_exists") from exc
    seconds = time.perf_counter() - started
    logger.info("tenant.provisioned", slug=slug, schema=tenant.schema_name, how=how, seconds=round(seconds, 3))
    return Provisioned(tenant=tenant, api_key=issued, schema_created_by=how, seconds=seconds)


def _state(tenant: Tenant) -> dict:
    return {
        "slug": tenant.slug,
        "name": tenant.name,
        "status": tenant.status,
        "environment": tenant.environment,
        "template": tenant.product_template,
        "schema": tenant.schema_name,
    }


@transaction.atomic
def _set_status(*, tenant: Tenant, status: str) -> Tenant:
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    if tenant.status != status:
        before = _state(tenant)
        tenant.status = status
        tenant.suspended_at = timezone.now() if status == TenantStatus.SUSPENDED else None
        tenant.save(update_fields=["status", "suspended_at"])
        audit_record(
            action=f"tenant.{'suspended' if status == TenantStatus.SUSPENDED else 'activated'}",
            target_type="tenant",
            target_id=tenant.slug,
            before=before,
            after=_state(tenant),
        )
    forget_tenant_keys(tenant)
    return tenant


def tenant_suspend(*, tenant: Tenant) -> Tenant:
    """Suspend: every key of the tenant gets 403 tenant_suspended (effective at once)."""
    with schema_context("public"):
        return _set_status(tenant=tenant, status=TenantStatus.SUSPENDED)


def tenant_activate(*, tenant: Tenant) -> Tenant:
    with schema_context("public"):
        return _set_status(tenant=tenant, status=TenantStatus.ACTIVE)
