"""Reading and changing configuration values: config_get / flag_enabled, config_set / config_unset."""

from __future__ import annotations

import copy
import json
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from finfactory.audit.services import audit_lock, audit_record
from finfactory.errors import FieldError, InvalidInput
from finfactory.request_context import current_actor
from finfactory.tenancy.context import in_public_schema
from finfactory.tenantconfig.caching import changed_in_transaction, resolved_values
from finfactory.tenantconfig.models import ConfigValue
from finfactory.tenantconfig.registry import ConfigDefinition, _definitions, config_definition

SCOPES = ("tenant", "global")
_MISSING = object()


@dataclass(frozen=True)
class ConfigEntry:
    """A value as stored in one schema ("global": the public schema's)."""

    key: str
    value: Any
    scope: str
    schema: str
    version: int
    reason: str
    updated_by: str
    updated_at: datetime


# --- Reads (hot path) ---------------------------------------------------------------------


def config_get(key: str) -> Any:
    """The value of `key` for the current schema: the tenant's, else the global one, else the default.

    Cached (see finfactory.tenantconfig.caching): a change is seen at once by the process that made
    it and within TENANTCONFIG_CACHE_SECONDS by every other. A json value is returned as a copy.
    Raises LookupError for a key nobody registered (a programming error, not input).
    """
    definition = _definitions.get(key)
    if definition is None:
        raise LookupError(f"configuration key {key!r} is not registered")
    value = resolved_values().get(key, _MISSING)
    if value is _MISSING:
        value = definition.default
    return copy.deepcopy(value) if definition.kind == "json" else value


def flag_enabled(key: str) -> bool:
    """config_get for a bool key. Raises LookupError (unknown key) or TypeError (not a bool key)."""
    definition = _definitions.get(key)
    if definition is not None and definition.kind != "bool":
        raise TypeError(f"configuration key {key!r} is a {definition.kind}, not a bool flag")
    return config_get(key)


# --- Writes ---------------------------------------------------------------------------------


def config_set(*, key: str, value: Any, reason: str, scope: str = "tenant") -> ConfigEntry:
    """Set `key` in the current tenant (scope "tenant") or for every tenant (scope "global").

    A tenant value is written in the current schema, which must be a tenant's; a global one in the
    public schema, from wherever this is called. One transaction: the row, and an audit record
    `config.value_set` (before/after: value and version) in the schema of the change. Setting the
    value already stored changes nothing and records nothing. Caches are invalidated after commit.

    Raises InvalidInput (nothing written): `invalid_config_scope` (field scope), `tenant_required`
    (scope "tenant" in the public schema; field scope), `unknown_config_key` (field key),
    `invalid_config_value` (field value), `reason_required` (field reason).
    """
    schema = _target_schema(scope)
    definition = _registered(key)
    problem = definition.problem(value)
    if problem is not None:
        raise InvalidInput(
            f"{key}: {problem}",
            code="invalid_config_value",
            errors=[FieldError("value", problem, "invalid_config_value")],
        )
    reason = _required_reason(reason)
    with _in_schema(schema), transaction.atomic():
        audit_lock()
        row = ConfigValue.objects.select_for_update().filter(key=key).first()
        if row is not None and _same(row.value, value):
            return _entry(row, scope, schema)
        before = None if row is None else {"value": row.value, "version": row.version}
        row = row or ConfigValue(key=key, version=0)
        row.value = value
        row.reason = reason
        row.updated_by = current_actor() or "system:unknown"
        row.updated_at = timezone.now()
        row.version += 1
        row.save()
        audit_record(
            action="config.value_set",
            target_type="config",
            target_id=key,
            before=before,
            after={"value": value, "version": row.version},
            reason=reason,
        )
        changed_in_transaction(schema)
    return _entry(row, scope, schema)


def config_unset(*, key: str, reason: str, scope: str = "tenant") -> ConfigEntry | None:
    """Remove `key`'s value from the tenant (or the global values), so the next layer applies.

    Returns the removed entry, or None if nothing was set there (nothing written, nothing audited).
    Audited as `config.value_unset` (before: value and version; after: null). A key no longer
    registered can still be unset where a row for it remains. Raises InvalidInput as config_set
    (except invalid_config_value); nothing is written on refusal.
    """
    schema = _target_schema(scope)
    registered = config_definition(key) is not None
    reason = _required_reason(reason) if registered else reason
    with _in_schema(schema), transaction.atomic():
        audit_lock()
        row = ConfigValue.objects.select_for_update().filter(key=key).first()
        if not registered:
            if row is None:
                _registered(key)  # raises unknown_config_key
            reason = _required_reason(reason)
        if row is None:
            return None
        removed = _entry(row, scope, schema)
        row.delete()
        audit_record(
            action="config.value_unset",
            target_type="config",
            target_id=key,
            before={"value": removed.value, "version": removed.version},
            after=None,
            reason=reason,
        )
        changed_in_transaction(schema)
    return removed


def config_value_check(key: str, value: Any) -> None:
    """Validate without writing (forms, commands): raises InvalidInput as config_set would."""
    problem = _registered(key).problem(value)
    if problem is not None:
        raise InvalidInput(
            f"{key}: {problem}",
            code="invalid_config_value",
            errors=[FieldError("value", problem, "invalid_config_value")],
        )


# --- Helpers --------------------------------------------------------------------------------


def _target_schema(scope: str) -> str:
    public = get_public_schema_name()
    if scope == "global":
        return public
    if scope != "tenant":
        raise InvalidInput(
            f"Scope must be one of {', '.join(SCOPES)}.",
            code="invalid_config_scope",
            errors=[FieldError("scope", f"Must be one of {', '.join(SCOPES)}.", "invalid_config_scope")],
        )
    if connection.schema_name == public:
        raise InvalidInput(
            "A tenant value is set inside a tenant; use scope 'global' for every tenant.",
            code="tenant_required",
            errors=[FieldError("scope", "No tenant here: the public schema holds global values.", "tenant_required")],
        )
    return connection.schema_name


def _registered(key: Any) -> ConfigDefinition:
    definition = config_definition(key) if isinstance(key, str) else None
    if definition is None:
        raise InvalidInput(
            f"Unknown configuration key {key!r}.",
            code="unknown_config_key",
            errors=[FieldError("key", "Not a registered configuration key.", "unknown_config_key")],
        )
    return definition


def _required_reason(reason: Any) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput(
            "A reason is required.",
            code="reason_required",
            errors=[FieldError("reason", "A reason is required.", "required")],
        )
    return reason.strip()


def _in_schema(schema: str):
    return in_public_schema() if schema == get_public_schema_name() else nullcontext()


def _same(stored: Any, value: Any) -> bool:
    # Not `==`: in Python 1 == 1.0 == True, which JSON (and a config reader) tells apart.
    return json.dumps(stored, sort_keys=True) == json.dumps(value, sort_keys=True)


def _entry(row: ConfigValue, scope: str, schema: str) -> ConfigEntry:
    return ConfigEntry(
        key=row.key,
        value=row.value,
        scope=scope,
        schema=schema,
        version=row.version,
        reason=row.reason,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )
