"""The tenant's product configuration: its template, its overrides and what they add up to.

One `ProductConfig` row per tenant schema. On first use it is loaded from the template the tenant
was provisioned with (`Tenant.product_template`, catalog.py) and the template's tiers are handed
to wallets. After that it changes only through `product_config_override` (the tenant's changes,
merged over the template) and `product_template_upgrade` (a newer version of the template, the
overrides kept) — both validated with the template's own checks, versioned and audited.

`product_config()` runs on every money movement: cached per process, it costs one indexed
one-row query (the row's version and update time) to know the cache is still right.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from types import MappingProxyType

from django.db import connection, transaction

from contexts.wallets import api as wallets_api
from finfactory.audit.services import audit_lock, audit_record
from finfactory.errors import BusinessRuleViolation, FieldError, InvalidInput
from finfactory.money import require_amount
from finfactory.request_context import current_actor
from finfactory.tenancy.models import Tenant

from . import catalog
from .models import ProductConfig

AUDIT_TARGET = "product_config"
MAX_REASON = 500

__all__ = [
    "Features",
    "Fee",
    "ProductConfigDTO",
    "deep_merge",
    "product_config",
    "product_config_override",
    "product_template_upgrade",
]


# --- Values ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fee:
    """A flow's fee in one currency: `flat` plus `percent_bps` of the amount, kept within
    [`min`, `max`]. Minor units and basis points; `max` None means no ceiling."""

    flat: int
    percent_bps: int
    min: int
    max: int | None

    def amount_for(self, amount: int) -> int:
        # amount * bps / 10 000, rounded half up to the minor unit, in integers only.
        variable, remainder = divmod(amount * self.percent_bps, 10_000)
        if remainder * 2 >= 10_000:
            variable += 1
        fee = max(self.flat + variable, self.min)
        return fee if self.max is None else min(fee, self.max)


@dataclass(frozen=True)
class Features:
    cash_in: bool
    cash_out: bool
    transfers: bool
    qr_payments: bool
    qr_off_us: bool
    overdraft: bool
    interest: bool


@dataclass(frozen=True)
class ProductConfigDTO:
    """The tenant's effective product configuration (read-only; mappings are immutable views).

    `kyc`: flow (cash_in, cash_out, transfer, qr_payment) → minimum KYC level (none|basic|full).
    `fees`: flow → currency → Fee. `routing`: qr_off_us / payout → adapter name or None.
    `tiers`: the raw `tiers` section ({time_zone, tiers: [...]}); `tier_schedule` is the same as
    wallets' TierSchedule. `version` rises with every change of the tenant's configuration.
    """

    template: str
    template_version: int
    version: int
    description: str
    primitives: tuple[str, ...]
    currencies: tuple[str, ...]
    features: Features
    kyc: Mapping[str, str]
    payees_scope: str  # any | own_merchants
    allowed_mccs: tuple[str, ...] | None
    blocked_mccs: tuple[str, ...] | None
    fees: Mapping[str, Mapping[str, Fee]]
    routing: Mapping[str, str | None]
    tiers: Mapping
    locked: tuple[str, ...]
    overrides: Mapping
    effective: Mapping
    updated_at: datetime

    def allows_currency(self, currency: str) -> bool:
        return currency in self.currencies

    def feature(self, name: str) -> bool:
        if name not in catalog.FEATURES:
            raise ValueError(f"no product feature {name!r}; one of {', '.join(catalog.FEATURES)}")
        return getattr(self.features, name)

    def fee_for(self, flow: str, currency: str, amount: int) -> int:
        """The fee of a `flow` (cash_in, cash_out, transfer, qr_payment) movement of `amount`
        minor units of `currency`, in minor units of that currency.

        Errors: 400 `validation_error` (amount not a non-negative integer); 422
        `currency_not_supported` (the product does not offer the currency).
        """
        if flow not in catalog.FLOWS:
            raise ValueError(f"no product flow {flow!r}; one of {', '.join(catalog.FLOWS)}")
        amount = require_amount(amount, field="amount", allow_zero=True)
        fee = self.fees[flow].get(currency)
        if fee is None or not self.allows_currency(currency):
            raise BusinessRuleViolation(
                f"The product does not offer {currency!r}.",
                code="currency_not_supported",
                errors=[
                    FieldError("currency", f"Must be one of {', '.join(self.currencies)}.", "currency_not_supported")
                ],
            )
        return fee.amount_for(amount)

    def kyc_allows(self, flow: str, level: str) -> bool:
        """Whether a customer at KYC `level` may use `flow` (levels: none < basic < full)."""
        return catalog.KYC_LEVELS.index(level) >= catalog.KYC_LEVELS.index(self.kyc[flow])

    def allows_payee(self, *, own_merchant: bool, mcc: str | None) -> bool:
        """Whether a transfer or QR payment may go to this payee: `own_merchant` says whether it
        is one of the tenant's QR Ph merchants, `mcc` is its merchant category code (None for a
        wallet that is no merchant, or an unknown one)."""
        if self.payees_scope == "own_merchants" and not own_merchant:
            return False
        if self.allowed_mccs is not None and mcc not in self.allowed_mccs:
            return False
        return not (self.blocked_mccs is not None and mcc in self.blocked_mccs)

    @cached_property
    def tier_schedule(self) -> wallets_api.TierSchedule:
        return catalog.tier_schedule(self.tiers)

    def as_dict(self) -> dict:
        """The effective configuration as plain JSON data (a copy)."""
        return _thawed(self.effective)

    def overrides_as_dict(self) -> dict:
        """The tenant's overrides as plain JSON data (a copy)."""
        return _thawed(self.overrides)


def _frozen(value):
    if isinstance(value, Mapping):
        return MappingProxyType({key: _frozen(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    return value


def _thawed(value):
    if isinstance(value, Mapping):
        return {key: _thawed(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [_thawed(item) for item in value]
    return value


def _dto(config: ProductConfig) -> ProductConfigDTO:
    effective = _frozen(config.effective)
    payees = effective["payees"]
    return ProductConfigDTO(
        template=config.template,
        template_version=config.template_version,
        version=config.version,
        description=effective.get("description", ""),
        primitives=effective["primitives"],
        currencies=effective["currencies"],
        features=Features(**effective["features"]),
        kyc=effective["kyc"],
        payees_scope=payees["scope"],
        allowed_mccs=payees["allowed_mccs"],
        blocked_mccs=payees.get("blocked_mccs"),
        fees=MappingProxyType(
            {
                flow: MappingProxyType({currency: Fee(**fee) for currency, fee in by_currency.items()})
                for flow, by_currency in effective["fees"].items()
            }
        ),
        routing=effective["routing"],
        tiers=effective["tiers"],
        locked=effective.get("locked", ()),
        overrides=_frozen(config.overrides),
        effective=effective,
        updated_at=config.updated_at,
    )


# --- Reading -----------------------------------------------------------------------------------

# schema → ((version, updated_at), dto). A change commits a new version and update time, so a
# key that still matches the row is a DTO that is still right — in every process, and also after
# a rolled-back change (the row is back to the old key, which the cache holds no DTO for).
_cache: dict[str, tuple[tuple, ProductConfigDTO]] = {}
_KEY_SQL = f"SELECT version, updated_at FROM {ProductConfig._meta.db_table} WHERE id = 1"  # noqa: S608


def _remember(config: ProductConfig) -> ProductConfigDTO:
    dto = _dto(config)
    _cache[connection.schema_name] = ((config.version, config.updated_at), dto)
    return dto


def product_config() -> ProductConfigDTO:
    """The current tenant's effective product configuration.

    The first call in a tenant loads the tenant's template (`Tenant.product_template`) and gives
    its tiers to wallets (`tiers_configure`), audited as `products.config_loaded`; concurrent
    first calls load it once. Raises catalog.TemplateError if the tenant's template has no valid
    file (a deployment error), and whatever wallets refuses.
    """
    with connection.cursor() as cursor:
        cursor.execute(_KEY_SQL)
        key = cursor.fetchone()
    if key is not None:
        cached = _cache.get(connection.schema_name)
        if cached is not None and cached[0] == key:
            return cached[1]
        return _remember(ProductConfig.objects.get(pk=1))
    with transaction.atomic():
        audit_lock()
        # Under the lock, in READ COMMITTED: a concurrent first call that won has committed.
        config = ProductConfig.objects.filter(pk=1).first() or _load_template()
    return _remember(config)


def _tenant_template() -> str:
    template = getattr(getattr(connection, "tenant", None), "product_template", None)
    if template:
        return template
    # Under schema_context() the connection's tenant is a stand-in without the model's fields.
    found = Tenant.objects.filter(schema_name=connection.schema_name).values_list("product_template", flat=True)
    return found.first() or ""


def _load_template() -> ProductConfig:
    name = _tenant_template()
    base = catalog.template_load(name)
    config = ProductConfig.objects.create(
        template=name, template_version=base["version"], base=base, overrides={}, effective=base, version=1
    )
    wallets_api.tiers_configure(
        schedule=catalog.tier_schedule(base["tiers"]),
        reason=f"Tiers of the {name} product template, version {base['version']}",
    )
    audit_record(
        action="products.config_loaded",
        target_type=AUDIT_TARGET,
        target_id=1,
        after={"template": name, "template_version": base["version"], "version": config.version},
        reason=f"First use: the {name} product template, version {base['version']}",
        actor=current_actor() or "system:products",
    )
    return config


# --- Changing ----------------------------------------------------------------------------------


def deep_merge(base: object, overrides: object) -> object:
    """`overrides` over `base`: mappings merge key by key; anything else (lists, scalars, None)
    replaces, except that None over a mapping removes it (how an override drops a currency's
    fees: `fees: {cash_in: {USD: null}}`; no mapping of a configuration is nullable). Neither
    argument is changed."""
    if isinstance(base, Mapping) and isinstance(overrides, Mapping):
        merged = copy.deepcopy(dict(base))
        for key, value in overrides.items():
            if value is None and isinstance(base.get(key), Mapping):
                merged.pop(key)
            else:
                merged[key] = deep_merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(overrides)


def _effective(base: dict, overrides: dict) -> dict:
    """Base and overrides merged, validated as a template is, with the template's locked fields
    unchanged. Errors name the field under `overrides.`."""
    effective = deep_merge(base, overrides)
    schema_errors = catalog.schema_errors(effective, prefix="overrides")
    if schema_errors:
        raise InvalidInput(f"{schema_errors[0].field}: {schema_errors[0].message}", errors=schema_errors)
    # Locks before the other rules: turning on sharia_wallet's overdraft is refused because the
    # template forbids it, whatever else would also be wrong with it.
    locked = [*catalog.ALWAYS_LOCKED, *base.get("locked", [])]
    changed = [path for path in locked if catalog.value_at(effective, path) != catalog.value_at(base, path)]
    if changed:
        raise BusinessRuleViolation(
            f"The {base['name']} template does not let a tenant change {', '.join(changed)}.",
            code="template_rule_locked",
            errors=[FieldError(f"overrides.{path}", "Locked by the product template.", "template_rule_locked")
                    for path in changed],
        )  # fmt: skip
    return catalog.config_validate(effective, prefix="overrides")


def _reason(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_REASON or "\x00" in value:
        message = f"Must be 1-{MAX_REASON} characters."
        raise InvalidInput(message, errors=[FieldError("reason", message, "required")])
    return value.strip()


def _locked_row() -> ProductConfig:
    """The row, locked until commit, after the audit-chain lock (finfactory's lock order)."""
    audit_lock()
    product_config()
    return ProductConfig.objects.select_for_update().get(pk=1)


def _apply_tiers(before: dict, after: dict, *, reason: str) -> None:
    if before["tiers"] != after["tiers"]:
        wallets_api.tiers_configure(schedule=catalog.tier_schedule(after["tiers"]), reason=reason)


def product_config_override(*, overrides: dict, reason: str) -> ProductConfigDTO:
    """Replace the tenant's overrides with `overrides` (the whole set: `{}` goes back to the
    template) and return the new effective configuration.

    The overrides are merged over the template (mappings merge, lists and scalars replace) and the
    result must pass the template's checks. If the tiers change, wallets gets them in the same
    transaction. The same overrides again change nothing (no new version, no audit record).

    Errors (nothing is written): 400 `validation_error` naming the field (`overrides.fees.
    cash_out.PHP.flat`, `reason`); 422 `template_rule_locked` (a field the template locks, e.g.
    `overrides.features.overdraft` of sharia_wallet); wallets' refusals of the tiers
    (`currency_in_use`, …). Audit: `products.config_overridden` (overrides and versions).
    """
    reason = _reason(reason)
    if not isinstance(overrides, Mapping):
        raise InvalidInput("overrides must be a mapping", errors=[FieldError("overrides", "Must be a mapping.")])
    overrides = deep_merge({}, overrides)  # a copy the caller cannot change behind our back
    with transaction.atomic():
        config = _locked_row()
        if overrides == config.overrides:
            return _remember(config)
        effective = _effective(config.base, overrides)  # type: ignore[arg-type]
        _apply_tiers(config.effective, effective, reason=reason)
        before = {"overrides": config.overrides, "version": config.version}
        config.overrides, config.effective, config.version = overrides, effective, config.version + 1
        config.save(update_fields=["overrides", "effective", "version", "updated_at"])
        audit_record(
            action="products.config_overridden",
            target_type=AUDIT_TARGET,
            target_id=1,
            before=before,
            after={"overrides": config.overrides, "version": config.version},
            reason=reason,
        )
    return _remember(config)


def product_template_upgrade(*, reason: str) -> ProductConfigDTO:
    """Take the newest version of the tenant's template file, keeping the tenant's overrides.

    Nothing happens if the file's version is not newer than the one in use. If the tiers change,
    wallets gets them in the same transaction.

    Errors (nothing is written): 400 `validation_error` (`reason`); 422
    `template_upgrade_conflict` when the overrides do not fit the new version (`errors[]` name the
    fields, with their own codes, e.g. `template_rule_locked`); wallets' refusals of the tiers.
    Audit: `products.template_upgraded` (template versions, config versions, the overrides kept).
    """
    reason = _reason(reason)
    with transaction.atomic():
        config = _locked_row()
        template = catalog.template_load(config.template)
        if template["version"] <= config.template_version:
            return _remember(config)
        try:
            effective = _effective(template, config.overrides)
        except (InvalidInput, BusinessRuleViolation) as exc:
            raise BusinessRuleViolation(
                f"The tenant's overrides do not fit version {template['version']} of {config.template}: {exc.detail}",
                code="template_upgrade_conflict",
                errors=exc.errors,
            ) from exc
        _apply_tiers(config.effective, effective, reason=reason)
        before = {"template_version": config.template_version, "version": config.version}
        config.base, config.effective = template, effective
        config.template_version, config.version = template["version"], config.version + 1
        config.save(update_fields=["base", "effective", "template_version", "version", "updated_at"])
        audit_record(
            action="products.template_upgraded",
            target_type=AUDIT_TARGET,
            target_id=1,
            before=before,
            after={
                "template_version": config.template_version,
                "version": config.version,
                "overrides": config.overrides,
            },
            reason=reason,
        )
    return _remember(config)
