"""The tenant's tier schedule: seeded from its product template's defaults on first use,
replaced as a whole by `tiers_configure` (orchestration) or one value at a time by an approved
back-office request (`tier_limit_change`). Every change is validated, versioned, audited and
announced (`wallet.limit.updated`, scope "tier")."""

from __future__ import annotations

from dataclasses import asdict, replace
from decimal import Decimal, InvalidOperation

from django.db import connection, transaction

from finfactory.audit.services import audit_record
from finfactory.errors import BusinessRuleViolation, FieldError, NotFound
from finfactory.money import currency_exponent
from finfactory.outbox.publish import publish_many
from finfactory.tenancy.models import Tenant

from . import locks, validation
from .dtos import FlowLimits, TierSchedule, TierScheduleDTO, TierSpec
from .models import FlowKind, LimitPolicy, Tier, TierFlowLimit, Wallet, WalletStatus
from .selectors import schedule_dto, schedule_read
from .tier_defaults import default_schedule

AUDIT_TARGET = "wallet_tiers"
FLOW_FIELDS = ("min_amount", "max_amount", "daily_amount", "daily_count", "monthly_amount", "monthly_count")
# What one back-office request may change: a tier's max_balance, or one limit of one flow.
CHANGEABLE_FIELDS = ("max_balance", *(f"{kind}.{name}" for kind in FlowKind.values for name in FLOW_FIELDS))


def _tenant_template() -> str:
    template = getattr(getattr(connection, "tenant", None), "product_template", None)
    if template:
        return template
    # Under schema_context() the connection's tenant is a stand-in without the model's fields.
    found = Tenant.objects.filter(schema_name=connection.schema_name).values_list("product_template", flat=True)
    return found.first() or ""


def schedule_as_dict(schedule: TierSchedule) -> dict:
    return asdict(schedule)


def tier_payload(tier: TierSpec, *, version: int) -> dict:
    """`data` of wallet.limit.updated for a tier whose definition changed."""
    return {
        "scope": "tier",
        "tier": tier.code,
        "name": tier.name,
        "currency": tier.currency,
        "kyc_level": tier.kyc_level,
        "max_balance": tier.max_balance,
        "flows": {flow.kind: {name: getattr(flow, name) for name in FLOW_FIELDS} for flow in tier.flows},
        "version": version,
    }


def _write_tiers(schedule: TierSchedule) -> None:
    TierFlowLimit.objects.all().delete()
    Tier.objects.all().delete()
    for spec in schedule.tiers:
        tier = Tier.objects.create(
            code=spec.code, name=spec.name, kyc_level=spec.kyc_level, currency=spec.currency,
            max_balance=spec.max_balance,
        )  # fmt: skip
        TierFlowLimit.objects.bulk_create(
            TierFlowLimit(tier=tier, **{"kind": flow.kind, **{name: getattr(flow, name) for name in FLOW_FIELDS}})
            for flow in spec.flows
        )


def policy() -> LimitPolicy:
    """The tenant's limit policy; the first call seeds the schedule from the product template.

    Concurrent first calls seed once: the seeding runs under the audit-chain lock (locks.py) and
    looks again once it holds it (READ COMMITTED: it sees the winner's commit).
    """
    existing = LimitPolicy.objects.filter(pk=1).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        locks.audit_chain()
        existing = LimitPolicy.objects.filter(pk=1).first()
        if existing is not None:
            return existing
        template = _tenant_template()
        schedule = default_schedule(template)
        _write_tiers(schedule)
        seeded = LimitPolicy.objects.create(template=template, source="template", time_zone=schedule.time_zone)
        audit_record(
            action="wallet_tiers.seeded",
            target_type=AUDIT_TARGET,
            target_id=f"v{seeded.version}",
            after=schedule_as_dict(schedule),
            reason=f"Defaults of the {template or 'unknown'!r} product template",
        )
    return seeded


def tiers_get() -> TierScheduleDTO:
    return schedule_dto(policy())


def tiers_configure(*, schedule: TierSchedule, reason: str) -> TierScheduleDTO:
    """Replace the tenant's whole schedule. An identical schedule changes nothing (no new version).

    Refused with `currency_in_use` if a currency that still has open (active or suspended)
    wallets would lose its tiers. Wallets keep their KYC level; their tier is whatever the new
    schedule maps that level to.
    """
    schedule = validation.tier_schedule(schedule)
    reason = validation.reason(reason)
    with transaction.atomic():
        policy()
        locks.audit_chain()
        locked = LimitPolicy.objects.select_for_update().get(pk=1)
        before = schedule_read(locked)
        if before == schedule:
            return schedule_dto(locked)
        in_use = set(Wallet.objects.exclude(status=WalletStatus.CLOSED).values_list("currency", flat=True).distinct())
        dropped = sorted(in_use - set(schedule.currencies))
        if dropped:
            raise BusinessRuleViolation(
                f"{', '.join(dropped)} still has open wallets and needs its tiers.",
                code="currency_in_use",
                errors=[FieldError("schedule.tiers", f"Keep tiers for {', '.join(dropped)}.", "currency_in_use")],
            )
        _write_tiers(schedule)
        locked.source = "custom"
        locked.time_zone = schedule.time_zone
        locked.version += 1
        locked.save(update_fields=["source", "time_zone", "version", "updated_at"])
        old = {(tier.code, tier.currency): tier for tier in before.tiers}
        changed = [tier for tier in schedule.tiers if old.get((tier.code, tier.currency)) != tier]
        publish_many(
            [
                ("wallet.limit.updated", f"{tier.currency}:{tier.code}", tier_payload(tier, version=locked.version))
                for tier in changed
            ],
            aggregate_types=["wallet_tier"] * len(changed),
        )
        audit_record(
            action="wallet_tiers.configured",
            target_type=AUDIT_TARGET,
            target_id=f"v{locked.version}",
            before=schedule_as_dict(before),
            after=schedule_as_dict(schedule),
            reason=reason,
        )
        return schedule_dto(locked)


# --- One value at a time, for the back office (maker-checker) -------------------------------------


def parse_major_units(value: object, currency: str, field: str = "value") -> int | None:
    """'1500.50' PHP → 150050; '' → None (no limit). Exact: more decimals than the currency has
    are refused, never rounded."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise validation.invalid(field, "Must be an amount such as 1500.00.", "invalid_amount") from None
    exponent = currency_exponent(currency) or 0
    minor = amount.scaleb(exponent)
    if not amount.is_finite() or minor != minor.to_integral_value() or minor < 0:
        raise validation.invalid(field, f"Must be an amount with at most {exponent} decimals.", "invalid_amount")
    return int(minor)


def _tier_in(schedule: TierSchedule, *, tier: object, currency: object) -> TierSpec:
    found = next((t for t in schedule.tiers if t.code == tier and t.currency == currency), None)
    if found is None:
        raise NotFound(
            f"No tier {tier!r} in {currency!r}.",
            code="tier_not_found",
            errors=[FieldError("tier", "No such tier in this currency.", "tier_not_found")],
        )
    return found


def tier_limit_changed(schedule: TierSchedule, *, tier: str, currency: str, field: str, value) -> TierSchedule:
    """The schedule with one value of one tier replaced, validated (nothing is written)."""
    spec = _tier_in(schedule, tier=tier, currency=currency)
    validation.choice(field, "field", list(CHANGEABLE_FIELDS))
    if field == "max_balance":
        changed = replace(spec, max_balance=value)
    else:
        kind, name = field.split(".")
        flows = tuple(replace(flow, **{name: value}) if flow.kind == kind else flow for flow in spec.flows)
        changed = replace(spec, flows=flows)
    tiers = tuple(changed if t is spec else t for t in schedule.tiers)
    return validation.tier_schedule(TierSchedule(time_zone=schedule.time_zone, tiers=tiers))


def tier_limit_value(schedule: TierSchedule, *, tier: str, currency: str, field: str) -> int | None:
    spec = _tier_in(schedule, tier=tier, currency=currency)
    if field == "max_balance":
        return spec.max_balance
    kind, name = field.split(".")
    flow: FlowLimits = spec.flow(kind)
    return getattr(flow, name)


def tier_limit_change(*, tier: str, currency: str, field: str, value: int | None, reason: str) -> TierScheduleDTO:
    """Set one limit of one tier (what an approved back-office request does)."""
    current = tiers_get().schedule
    return tiers_configure(
        schedule=tier_limit_changed(current, tier=tier, currency=currency, field=field, value=value), reason=reason
    )
