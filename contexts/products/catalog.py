"""The product templates (templates/<name>.yaml): what each product offers, asks and charges.

A template is data, versioned by its `version:` integer (a change ships as a higher version;
tenants take it with `product_template_upgrade`). It is read with yaml.safe_load, checked against
SCHEMA (JSON Schema 2020-12, closed at every level, integers only — money is never a float) and
then by `config_validate`'s rules that a schema cannot say. A tenant's effective configuration
(template + its overrides, configuration.py) passes the very same checks.

Amounts are integers in the currency's minor unit; percentages are basis points (100 = 1%).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from django.core.exceptions import ImproperlyConfigured
from jsonschema import Draft202012Validator, validators

from contexts.wallets.api import FlowLimits, TierSchedule, TierSpec
from finfactory.errors import FieldError, InvalidInput
from finfactory.money import MAX_AMOUNT, is_currency

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

KYC_LEVELS = ("none", "basic", "full")  # weakest first
FEATURES = ("cash_in", "cash_out", "transfers", "qr_payments", "qr_off_us", "overdraft", "interest")
FLOWS = ("cash_in", "cash_out", "transfer", "qr_payment")  # fees and KYC are per product flow
TIER_FLOWS = ("cash_in", "cash_out", "transfer_out")  # limits are per wallets flow
LIMIT_FIELDS = ("min_amount", "max_amount", "daily_amount", "daily_count", "monthly_amount", "monthly_count")
PAYEE_SCOPES = ("any", "own_merchants")
PRIMITIVES = (
    "identity", "wallets", "ledger", "qrph", "card_payments", "card_issuing", "threeds", "fraud",
    "tokenization", "terminals", "agent", "lending", "accounts", "consent",
)  # fmt: skip
# What defines a template rather than configures it: no tenant override may change these.
ALWAYS_LOCKED = ("name", "version", "primitives", "locked")
# The feature a flow needs, and the route (routing.<key>) a feature needs.
FEATURE_OF_FLOW = {"cash_in": "cash_in", "cash_out": "cash_out", "transfer": "transfers", "qr_payment": "qr_payments"}
ROUTE_OF_FEATURE = {"qr_off_us": "qr_off_us", "cash_out": "payout"}
MAX_COUNT = 1_000_000  # as wallets: a daily or monthly count limit

_AMOUNT = {"type": "integer", "minimum": 0, "maximum": MAX_AMOUNT}
_OPTIONAL_AMOUNT = {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_AMOUNT}
_OPTIONAL_COUNT = {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_COUNT}
_CURRENCY = {"type": "string", "pattern": "^[A-Z]{3}$"}
_KYC = {"enum": list(KYC_LEVELS)}
_MCCS = {
    "type": ["array", "null"],
    "items": {"type": "string", "pattern": "^[0-9]{4}$"},
    "minItems": 1,
    "uniqueItems": True,
}
_ROUTE = {"type": ["string", "null"], "pattern": "^[a-z][a-z0-9_]{0,19}$"}


def _closed(properties: dict, *, optional: tuple[str, ...] = ()) -> dict:
    """An object with exactly these properties (all required but `optional`), nothing else."""
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


_FEE = _closed(
    {
        "flat": _AMOUNT,
        "percent_bps": {"type": "integer", "minimum": 0, "maximum": 10_000},
        "min": _AMOUNT,
        "max": _OPTIONAL_AMOUNT,
    }
)
_FLOW_LIMITS = _closed(
    {
        "min_amount": {"type": "integer", "minimum": 1, "maximum": MAX_AMOUNT},
        "max_amount": _OPTIONAL_AMOUNT,
        "daily_amount": _OPTIONAL_AMOUNT,
        "daily_count": _OPTIONAL_COUNT,
        "monthly_amount": _OPTIONAL_AMOUNT,
        "monthly_count": _OPTIONAL_COUNT,
    }
)
_TIER = _closed(
    {
        "code": {"type": "string", "pattern": "^[a-z][a-z0-9_-]{0,39}$"},
        "name": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": r"\S"},
        "kyc_level": _KYC,
        "currency": _CURRENCY,
        "max_balance": _OPTIONAL_AMOUNT,
        "flows": _closed({flow: _FLOW_LIMITS for flow in TIER_FLOWS}),
    }
)

SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "FinFactory product template",
    **_closed(
        {
            "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"},
            "version": {"type": "integer", "minimum": 1},
            "description": {"type": "string", "maxLength": 1000},
            "primitives": {"type": "array", "items": {"enum": list(PRIMITIVES)}, "minItems": 1, "uniqueItems": True},
            "currencies": {"type": "array", "items": _CURRENCY, "minItems": 1, "uniqueItems": True},
            "features": _closed({name: {"type": "boolean"} for name in FEATURES}),
            "kyc": _closed({flow: _KYC for flow in FLOWS}),
            "payees": _closed(
                {"scope": {"enum": list(PAYEE_SCOPES)}, "allowed_mccs": _MCCS, "blocked_mccs": _MCCS},
                optional=("blocked_mccs",),
            ),
            "fees": _closed(
                {
                    flow: {
                        "type": "object",
                        "propertyNames": {"pattern": "^[A-Z]{3}$"},
                        "additionalProperties": _FEE,
                    }
                    for flow in FLOWS
                }
            ),
            "routing": _closed({"qr_off_us": _ROUTE, "payout": _ROUTE}),
            "locked": {"type": "array", "items": {"type": "string", "pattern": r"^[a-z_]+(\.[a-z_]+)*$"}},
            "tiers": _closed(
                {
                    "time_zone": {"type": "string", "minLength": 1, "maxLength": 64},
                    "tiers": {"type": "array", "items": _TIER, "minItems": 1},
                }
            ),
        },
        optional=("description", "locked"),
    ),
}


def _strict_integer(checker, instance) -> bool:
    # JSON Schema counts 1.0 as an integer; money and counts here are ints, never floats.
    return isinstance(instance, int) and not isinstance(instance, bool)


_Validator = validators.extend(
    Draft202012Validator, type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _strict_integer)
)
_Validator.check_schema(SCHEMA)
_VALIDATOR = _Validator(SCHEMA)


class TemplateError(ImproperlyConfigured):
    """A template named by settings or a tenant has no file, or its file is not a valid template."""


# --- Paths -------------------------------------------------------------------------------------


def field_name(path, *, prefix: str = "") -> str:
    """("fees", "cash_out", "PHP", "flat") → "fees.cash_out.PHP.flat"; list indices as [i]."""
    text = prefix
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


_MISSING = object()


def value_at(config: object, dotted: str) -> object:
    """The value at a dotted path ("features.overdraft"), or _MISSING."""
    value = config
    for key in dotted.split("."):
        if not isinstance(value, Mapping) or key not in value:
            return _MISSING
        value = value[key]
    return value


# --- Validation --------------------------------------------------------------------------------


def schema_errors(config: object, *, prefix: str = "") -> list[FieldError]:
    """What JSON Schema finds wrong (the cross-field rules not checked), each error naming its field."""
    errors = []
    for error in sorted(_VALIDATOR.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path]):
        path = list(error.absolute_path)
        instance = error.instance
        if error.validator == "additionalProperties" and isinstance(instance, Mapping):
            known = set(error.schema.get("properties", {}))
            for extra in sorted(str(key) for key in instance if key not in known):
                errors.append(FieldError(field_name([*path, extra], prefix=prefix), "Unknown field.", "unknown_field"))
            continue
        if error.validator == "required" and isinstance(instance, Mapping):
            for missing in (name for name in error.validator_value if name not in instance):
                errors.append(FieldError(field_name([*path, missing], prefix=prefix), "Required.", "required"))
            continue
        code = {"type": "invalid_type", "enum": "invalid_choice", "pattern": "invalid_format"}.get(
            str(error.validator), "invalid"
        )
        errors.append(FieldError(field_name(path, prefix=prefix) or prefix or "config", error.message[:300], code))
    return errors


def _semantic_errors(config: dict, prefix: str) -> list[FieldError]:
    """The rules across fields; `config` already matches SCHEMA."""
    errors: list[FieldError] = []

    def add(path: tuple, message: str, code: str = "invalid") -> None:
        errors.append(FieldError(field_name(path, prefix=prefix), message, code))

    currencies = config["currencies"]
    for index, currency in enumerate(currencies):
        if not is_currency(currency):
            add(("currencies", index), "Must be an ISO 4217 code with a minor unit, such as PHP.", "invalid_currency")

    features = config["features"]
    primitives = set(config["primitives"])
    for primitive in ("wallets", "ledger"):
        if primitive not in primitives:
            add(("primitives",), f"A wallet product needs the {primitive} primitive.", "missing_primitive")
    if (features["qr_payments"] or features["qr_off_us"]) and "qrph" not in primitives:
        add(("primitives",), "QR payments need the qrph primitive.", "missing_primitive")
    if features["qr_off_us"] and not features["qr_payments"]:
        add(("features", "qr_off_us"), "Off-us QR payments need qr_payments on.", "feature_conflict")
    if features["qr_off_us"] and config["payees"]["scope"] == "own_merchants":
        add(("features", "qr_off_us"), "A wallet paying only the tenant's merchants has no off-us payments.",
            "feature_conflict")  # fmt: skip
    for feature in ("overdraft", "interest"):
        # Neither exists in any primitive yet (a wallet's balance never goes below zero); the
        # `accounts` primitive will bring them.
        if features[feature] and "accounts" not in primitives:
            add(("features", feature), f"{feature} needs the accounts primitive.", "feature_unavailable")
    for feature, route in ROUTE_OF_FEATURE.items():
        routed = config["routing"][route]
        if features[feature] and routed is None:
            add(("routing", route), f"Required while features.{feature} is on.", "required")
        if not features[feature] and routed is not None:
            add(("routing", route), f"Must be null while features.{feature} is off.", "feature_conflict")

    payees = config["payees"]
    allowed, blocked = payees["allowed_mccs"], payees.get("blocked_mccs")
    if allowed and blocked:
        for index, mcc in enumerate(blocked):
            if mcc in allowed:
                add(("payees", "blocked_mccs", index), f"{mcc} is also in allowed_mccs.", "mcc_conflict")

    for flow in FLOWS:
        by_currency = config["fees"][flow]
        for currency in currencies:
            if currency not in by_currency:
                add(("fees", flow, currency), f"Every currency of the product needs a {flow} fee.", "required")
        for currency, fee in by_currency.items():
            if currency not in currencies:
                add(("fees", flow, currency), "Not one of the product's currencies.", "currency_not_offered")
            if fee["max"] is not None and fee["max"] < fee["min"]:
                add(("fees", flow, currency, "max"), "Must not be below min.", "inconsistent_fee")

    errors.extend(_tier_errors(config["tiers"], currencies, prefix))

    for index, path in enumerate(config.get("locked", [])):
        if path in ALWAYS_LOCKED or value_at(config, path) is _MISSING:
            add(("locked", index), "Must name a field of the template (features.overdraft, …).", "invalid_path")
    return errors


def _tier_errors(schedule: dict, currencies: list[str], prefix: str) -> list[FieldError]:
    """What wallets' tiers_configure would refuse, named in the template's terms."""
    errors: list[FieldError] = []

    def add(path: tuple, message: str, code: str = "invalid") -> None:
        errors.append(FieldError(field_name(("tiers", *path), prefix=prefix), message, code))

    try:
        ZoneInfo(schedule["time_zone"])
    except (ZoneInfoNotFoundError, ValueError):
        add(("time_zone",), "Must be an IANA time zone such as Asia/Manila.", "invalid_time_zone")
    codes: set[tuple[str, str]] = set()
    levels: set[tuple[str, str]] = set()
    for index, tier in enumerate(schedule["tiers"]):
        currency = tier["currency"]
        if currency not in currencies:
            add(("tiers", index, "currency"), "Not one of the product's currencies.", "currency_not_offered")
        if (tier["code"], currency) in codes:
            add(("tiers", index, "code"), "Tier codes must be unique per currency.", "duplicate_tier")
        if (tier["kyc_level"], currency) in levels:
            add(("tiers", index, "kyc_level"), "Only one tier per KYC level and currency.", "duplicate_tier")
        codes.add((tier["code"], currency))
        levels.add((tier["kyc_level"], currency))
        for flow, limits in tier["flows"].items():
            where = ("tiers", index, "flows", flow)
            if limits["max_amount"] is not None and limits["max_amount"] < limits["min_amount"]:
                add((*where, "max_amount"), "Must not be below min_amount.", "inconsistent_limits")
            for daily, monthly in (("daily_amount", "monthly_amount"), ("daily_count", "monthly_count")):
                if limits[daily] is not None and limits[monthly] is not None and limits[daily] > limits[monthly]:
                    add((*where, daily), f"Must not exceed {monthly}.", "inconsistent_limits")
    for currency in currencies:
        missing = [level for level in KYC_LEVELS if (level, currency) not in levels]
        if missing:
            add(("tiers",), f"{currency} has no tier for KYC level {', '.join(missing)}: every level needs one.",
                "incomplete_schedule")  # fmt: skip
    return errors


def config_errors(config: object, *, prefix: str = "") -> list[FieldError]:
    """Everything wrong with a template or an effective configuration (empty when valid); each
    error names its field, after `prefix` (e.g. "overrides")."""
    errors = schema_errors(config, prefix=prefix)
    if errors:
        return errors
    return _semantic_errors(config, prefix)  # type: ignore[arg-type]


def config_validate(config: object, *, prefix: str = "") -> dict:
    """The configuration if valid; InvalidInput naming every faulty field otherwise."""
    errors = config_errors(config, prefix=prefix)
    if errors:
        first = errors[0]
        raise InvalidInput(f"{first.field}: {first.message}", errors=errors)
    return config  # type: ignore[return-value]


# --- Loading -----------------------------------------------------------------------------------


def template_names() -> tuple[str, ...]:
    """The templates that have a file, sorted."""
    return tuple(sorted(path.stem for path in TEMPLATES_DIR.glob("*.yaml")))


@cache
def _load(directory: Path, name: str) -> dict:
    path = directory / f"{name}.yaml"
    if not name.isidentifier() or not path.is_file():
        raise TemplateError(f"No product template {name!r} ({path} does not exist).")
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TemplateError(f"{path}: not valid YAML: {exc}") from exc
    errors = config_errors(config)
    if not errors and config["name"] != name:
        errors = [FieldError("name", f"Must be {name!r}, the file's name.", "invalid")]
    if errors:
        listed = "; ".join(f"{error.field}: {error.message}" for error in errors)
        raise TemplateError(f"{path} is not a valid product template: {listed}")
    return config


def template_load(name: str) -> dict:
    """Template `name`, validated, as a fresh dict the caller may change (parsed once per process).

    Raises TemplateError if there is no such file or it is not a valid template.
    """
    return copy.deepcopy(_load(TEMPLATES_DIR, name))


def template_cache_clear() -> None:
    _load.cache_clear()


# --- Tiers -------------------------------------------------------------------------------------


def tier_schedule(tiers: Mapping) -> TierSchedule:
    """A configuration's `tiers` as wallets' TierSchedule, in wallets' canonical order
    (currency, then KYC level; flows cash_in, cash_out, transfer_out)."""
    specs = sorted(tiers["tiers"], key=lambda tier: (tier["currency"], KYC_LEVELS.index(tier["kyc_level"])))
    return TierSchedule(
        time_zone=tiers["time_zone"],
        tiers=tuple(
            TierSpec(
                code=tier["code"],
                name=tier["name"],
                kyc_level=tier["kyc_level"],
                currency=tier["currency"],
                max_balance=tier["max_balance"],
                flows=tuple(
                    FlowLimits(kind=flow, **{name: tier["flows"][flow][name] for name in LIMIT_FIELDS})
                    for flow in TIER_FLOWS
                ),
            )
            for tier in specs
        ),
    )
