"""Issuing, rotating, revoking and resolving API keys."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from finfactory.apikeys import secrets
from finfactory.apikeys.models import ApiKey, KeyKind, KeyMode
from finfactory.apikeys.scopes import PLATFORM_SCOPES, TENANT_SCOPES, unknown_scopes
from finfactory.audit.services import audit_record
from finfactory.errors import FieldError, InvalidInput, NotFound
from finfactory.redisguard import RedisBreaker
from finfactory.request_context import current_actor
from finfactory.tenancy.context import in_public_schema, in_tenant

logger = structlog.get_logger(__name__)

CACHE_PREFIX = "apikey:"
_cache_breaker = RedisBreaker("API key cache")
# finfactory.tenancy.models.TenantEnvironment → the key mode it takes (tenancy depends on apikeys).
MODE_FOR_ENVIRONMENT = {"sandbox": KeyMode.TEST, "live": KeyMode.LIVE}


class KeyRejected(Exception):
    """The presented key is unknown, revoked or expired (→ 401)."""


@dataclass(frozen=True)
class Principal:
    """An authenticated API key, as cached for at most API_KEY_CACHE_SECONDS."""

    key_id: int
    public_id: str
    prefix: str
    kind: str
    mode: str
    scopes: tuple[str, ...]
    tenant_id: int | None
    tenant_slug: str | None
    schema_name: str | None
    tenant_status: str | None
    rate_limits: dict
    expires_at: str | None
    tenant_environment: str | None = None  # "sandbox" or "live"; None for platform keys

    is_authenticated = True

    @property
    def mode_matches_tenant(self) -> bool:
        """A test key works only on a sandbox tenant, a live key only on a live one."""
        return self.tenant_environment is None or self.mode == MODE_FOR_ENVIRONMENT.get(self.tenant_environment)

    @property
    def actor(self) -> str:
        return f"{'platform_key' if self.kind == KeyKind.PLATFORM else 'apikey'}:{self.prefix}"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str  # shown once, never stored


def _validate(*, name: str, scopes, platform: bool) -> list[str]:
    errors = []
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        errors.append(FieldError("name", "A name of 1-100 characters is required.", "invalid"))
    if not isinstance(scopes, list | tuple) or not scopes or not all(isinstance(s, str) for s in scopes):
        errors.append(FieldError("scopes", "At least one scope is required.", "required"))
    else:
        unknown = unknown_scopes(scopes, platform=platform)
        if unknown:
            errors.append(FieldError("scopes", f"Unknown scopes: {', '.join(unknown)}.", "unknown_scope"))
    if errors:
        raise InvalidInput("The API key request is not valid.", errors=errors)
    return sorted(set(scopes))


def _key_state(key: ApiKey) -> dict:
    return {
        "prefix": key.prefix,
        "name": key.name,
        "mode": key.mode,
        "scopes": list(key.scopes),
        "expires_at": key.expires_at,
        "revoked_at": key.revoked_at,
    }


def _audit(key: ApiKey, action: str, *, before: dict | None, actor: str | None = None) -> None:
    """A tenant key's story is in the tenant's own trail; a platform key's in the public one."""
    scope = in_tenant(key.tenant) if key.tenant_id else in_public_schema()
    with scope:
        audit_record(
            action=action,
            target_type="api_key",
            target_id=key.public_id,
            before=before,
            after=_key_state(key),
            actor=actor,
        )


def api_key_create(
    *, tenant=None, name: str, scopes=None, mode: str = KeyMode.TEST, created_by: str | None = None
) -> IssuedKey:
    """Issue a key. Tenant keys get `ff_test_`/`ff_live_`, platform keys (tenant=None) `ff_platform_`."""
    platform = tenant is None
    scopes = list(PLATFORM_SCOPES if platform else TENANT_SCOPES) if scopes is None else scopes
    scopes = _validate(name=name, scopes=scopes, platform=platform)
    if mode not in KeyMode.values:
        raise InvalidInput(errors=[FieldError("mode", "Mode must be test or live.", "invalid")])
    if not platform:
        # A request's tenant is built from the key cache; an entry cached before environments
        # existed has none, so ask the row.
        environment = tenant.environment or type(tenant).objects.values_list("environment", flat=True).get(pk=tenant.pk)
        expected = MODE_FOR_ENVIRONMENT[environment]
        if mode != expected:
            raise InvalidInput(
                f"A {environment} tenant takes only ff_{expected}_ keys.",
                code="key_mode_mismatch",
                errors=[FieldError("mode", f"Must be {expected}.", "key_mode_mismatch")],
            )
    secret = secrets.generate("ff_platform_" if platform else f"ff_{mode}_")
    key = ApiKey.objects.create(
        kind=KeyKind.PLATFORM if platform else KeyKind.TENANT,
        tenant=tenant,
        name=name.strip(),
        mode=mode,
        prefix=secrets.visible_prefix(secret),
        digest=secrets.digest(secret),
        scopes=scopes,
        created_by=created_by or current_actor() or "system",
    )
    _audit(key, "apikey.created", before=None, actor=created_by)
    return IssuedKey(key=key, secret=secret)


def _forget_now_and_on_commit(key: ApiKey) -> None:
    """Forget the cached resolution now and again after commit: a request that re-cached the old
    state between the two (it read the row before we committed) cannot keep it."""
    _forget(key)
    transaction.on_commit(lambda: _forget(key))


def _forget(key: ApiKey) -> None:
    """Drop the cached resolution so revocation takes effect at once in every process."""
    try:
        cache.delete(CACHE_PREFIX + key.digest)
    except Exception:  # a cache outage must not block revocation; entries expire within seconds
        logger.warning("apikey.cache_unavailable", action="forget", key=key.public_id)


def forget_tenant_keys(tenant) -> None:
    for key in ApiKey.objects.filter(tenant=tenant):
        _forget_now_and_on_commit(key)


def api_key_get(*, public_id: str, tenant=None, platform: bool = False) -> ApiKey:
    """A key of this tenant (or a platform key); another tenant's key is simply not found."""
    queryset = ApiKey.objects.filter(public_id=public_id)
    queryset = queryset.filter(kind=KeyKind.PLATFORM) if platform else queryset.filter(tenant=tenant)
    key = queryset.first()
    if key is None:
        raise NotFound(f"No API key {public_id}.")
    return key


@transaction.atomic
def api_key_revoke(*, key: ApiKey, actor: str | None = None) -> ApiKey:
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is None:
        before = _key_state(key)
        key.revoked_at = timezone.now()
        key.revoked_by = actor or current_actor() or "system"
        key.save(update_fields=["revoked_at", "revoked_by"])
        _audit(key, "apikey.revoked", before=before, actor=actor)
    _forget_now_and_on_commit(key)
    return key


@transaction.atomic
def api_key_rotate(*, key: ApiKey, grace_seconds: int | None = None, actor: str | None = None) -> IssuedKey:
    """Issue a replacement with the same scopes; the old key keeps working for the grace period."""
    grace = settings.API_KEY_ROTATION_GRACE_SECONDS if grace_seconds is None else grace_seconds
    if not isinstance(grace, int) or isinstance(grace, bool) or not 0 <= grace <= 30 * 24 * 3600:
        raise InvalidInput(errors=[FieldError("grace_seconds", "Between 0 and 2592000 seconds.", "invalid")])
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is not None or key.replaced_by_id is not None:
        raise InvalidInput("Only a live key that has not been rotated yet can be rotated.", code="key_not_rotatable")
    issued = api_key_create(tenant=key.tenant, name=key.name, scopes=list(key.scopes), mode=key.mode, created_by=actor)
    expires = timezone.now() + timedelta(seconds=grace)
    before = _key_state(key)
    key.expires_at = expires if key.expires_at is None else min(key.expires_at, expires)
    key.replaced_by = issued.key
    key.save(update_fields=["expires_at", "replaced_by"])
    _audit(key, "apikey.rotated", before=before, actor=actor)
    _forget_now_and_on_commit(key)
    return issued


def _resolve(digest: str) -> dict | None:
    key = ApiKey.objects.select_related("tenant").filter(digest=digest).first()
    if key is None:
        return None
    tenant = key.tenant
    principal = Principal(
        key_id=key.pk,
        public_id=key.public_id,
        prefix=key.prefix,
        kind=key.kind,
        mode=key.mode,
        scopes=tuple(key.scopes),
        tenant_id=tenant.pk if tenant else None,
        tenant_slug=tenant.slug if tenant else None,
        schema_name=tenant.schema_name if tenant else None,
        tenant_status=tenant.status if tenant else None,
        rate_limits=dict(tenant.rate_limits) if tenant else {},
        expires_at=key.expires_at.isoformat() if key.expires_at else None,
        tenant_environment=tenant.environment if tenant else None,
    )
    return {"revoked": key.revoked_at is not None, "principal": asdict(principal)}


def api_key_authenticate(secret: str) -> Principal:
    """Resolve a presented key. Cached for API_KEY_CACHE_SECONDS (revocation clears it at once)."""
    if not secrets.well_formed(secret):
        raise KeyRejected("malformed")
    digest = secrets.digest(secret)
    # The cache is an optimisation: with Redis down keys resolve from the database, and the
    # breaker spares every request the socket timeouts.
    entry = _cache_breaker.call(lambda: cache.get(CACHE_PREFIX + digest), fallback=None)
    if entry is None:
        entry = _resolve(digest) or {"revoked": True, "principal": None}
        _cache_breaker.call(
            lambda: cache.set(CACHE_PREFIX + digest, entry, timeout=settings.API_KEY_CACHE_SECONDS), fallback=None
        )
    if entry["revoked"] or entry["principal"] is None:
        raise KeyRejected("unknown or revoked")
    data = dict(entry["principal"])
    data["scopes"] = tuple(data["scopes"])
    principal = Principal(**data)
    if principal.expires_at and datetime.fromisoformat(principal.expires_at) <= timezone.now():
        raise KeyRejected("expired")
    return principal
