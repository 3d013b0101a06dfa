"""Checks of caller input: InvalidInput (400 `validation_error`) naming the field, before any write.

`movement()` checks a movement to score; `rule_params()` checks a rule's parameters against its
kind, so a rule that cannot be evaluated is never stored.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils import timezone

from finfactory.errors import FieldError, InvalidInput
from finfactory.money import require_amount, require_currency

from .models import BlockKind, Channel, MovementType, RuleAction, RuleKind

_COUNTRY = re.compile(r"^[A-Z]{2}\Z")
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}\Z")
MAX_WINDOW_SECONDS = 31 * 86_400
VELOCITY_SCOPES = ("customer", "wallet", "counterparty")


def invalid(field: str, message: str, code: str = "invalid") -> InvalidInput:
    return InvalidInput(f"{field}: {message}", errors=[FieldError(field, message, code)])


def identifier(value: object, field: str, *, max_length: int = 40, required: bool = True) -> str:
    if value is None or value == "":
        if required:
            raise invalid(field, "This field is required.", "required")
        return ""
    if not isinstance(value, str) or not value.isascii() or not value.isprintable() or value != value.strip():
        raise invalid(field, "Printable ASCII characters without spaces around them.")
    if len(value) > max_length:
        raise invalid(field, f"At most {max_length} characters.", "too_long")
    return value


def choice(value: object, field: str, choices) -> str:
    if value not in choices.values:
        raise invalid(field, f"One of: {', '.join(choices.values)}.", "invalid_choice")
    return value  # type: ignore[return-value]


def country(value: object, field: str) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or not _COUNTRY.match(value):
        raise invalid(field, "An ISO 3166-1 alpha-2 country code in capitals, e.g. PH.")
    return value


def reason(value: object, field: str = "reason") -> str:
    if not isinstance(value, str) or not value.strip():
        raise invalid(field, "A reason is required.", "reason_required")
    if len(value) > 500:
        raise invalid(field, "At most 500 characters.", "too_long")
    return value.strip()


def moment(value: object, field: str) -> datetime:
    if value is None:
        return timezone.now()
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise invalid(field, "A timezone-aware date and time.")
    # In UTC, so that a moment is one feature vector whatever offset the caller wrote it in.
    return value.astimezone(UTC)


def _coordinate(value: object, field: str, bound: float) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not -bound <= value <= bound:
        raise invalid(field, f"A number between -{bound:g} and {bound:g}.")
    return float(value)


@dataclass(frozen=True)
class Movement:
    reference: str
    customer_id: str
    wallet_id: str
    movement_type: str
    amount: int
    currency: str
    channel: str
    occurred_at: datetime
    counterparty: str
    device_id: str
    ip_address: str | None
    ip_country: str
    latitude: float | None
    longitude: float | None
    location_country: str

    @property
    def located(self) -> bool:
        return self.latitude is not None


def movement(
    *,
    reference,
    customer_id,
    wallet_id,
    movement_type,
    amount,
    currency,
    channel,
    occurred_at=None,
    counterparty="",
    device_id="",
    ip_address="",
    ip_country="",
    latitude=None,
    longitude=None,
    location_country="",
) -> Movement:
    ip = identifier(ip_address, "ip_address", max_length=45, required=False)
    if ip:
        try:
            ip = str(ipaddress.ip_address(ip))
        except ValueError:
            raise invalid("ip_address", "An IPv4 or IPv6 address.") from None
    lat = _coordinate(latitude, "latitude", 90)
    lon = _coordinate(longitude, "longitude", 180)
    if (lat is None) != (lon is None):
        field = "longitude" if lon is None else "latitude"
        raise invalid(field, "Latitude and longitude are given together.", "required")
    return Movement(
        reference=identifier(reference, "reference", max_length=200),
        customer_id=identifier(customer_id, "customer_id"),
        wallet_id=identifier(wallet_id, "wallet_id"),
        movement_type=choice(movement_type, "movement_type", MovementType),
        amount=require_amount(amount),
        currency=require_currency(currency),
        channel=choice(channel, "channel", Channel),
        occurred_at=moment(occurred_at, "occurred_at"),
        counterparty=identifier(counterparty, "counterparty", max_length=200, required=False),
        device_id=identifier(device_id, "device_id", max_length=200, required=False),
        ip_address=ip or None,
        ip_country=country(ip_country, "ip_country"),
        latitude=lat,
        longitude=lon,
        location_country=country(location_country, "location_country"),
    )


# --- Rules -------------------------------------------------------------------------------------


def rule_code(value: object) -> str:
    if not isinstance(value, str) or not _CODE.match(value):
        raise invalid("code", "Lower-case letters, digits, - and _ (1-60), starting with a letter or digit.")
    return value


def weight(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1000:
        raise invalid("weight", "An integer from 0 to 1000.")
    return value


def _positive_int(params: dict, key: str, *, required: bool, maximum: int | None = None) -> int | None:
    value = params.get(key)
    if value is None:
        if required:
            raise invalid(f"params.{key}", "This field is required.", "required")
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or (maximum and value > maximum):
        raise invalid(f"params.{key}", f"A positive integer{f' up to {maximum}' if maximum else ''}.")
    return value


def _values(params: dict, key: str, allowed) -> list[str]:
    values = params.get(key, [])
    if not isinstance(values, list) or any(value not in allowed for value in values):
        raise invalid(f"params.{key}", f"A list of: {', '.join(allowed)}.", "invalid_choice")
    return sorted(set(values))


_KNOWN_KEYS = {
    RuleKind.AMOUNT: {"currency", "min_amount"},
    RuleKind.VELOCITY: {"scope", "window_seconds", "max_count", "max_amount", "currency"},
    RuleKind.NEW_DEVICE: {"min_known_devices"},
    RuleKind.GEO_MISMATCH: {"max_speed_kmh", "allowed_countries", "compare_ip_to_location"},
    RuleKind.BLOCK_LIST: {"kinds"},
}


def rule_params(kind: object, params: object) -> dict:
    """The parameters normalised for `kind`; every rule may also narrow `movement_types` and
    `channels` (empty: all)."""
    kind = choice(kind, "kind", RuleKind)
    if not isinstance(params, dict):
        raise invalid("params", "A JSON object.")
    unknown = set(params) - _KNOWN_KEYS[kind] - {"movement_types", "channels"}
    if unknown:
        raise invalid(f"params.{sorted(unknown)[0]}", f"Not a parameter of a {kind} rule.", "unknown_parameter")
    clean: dict = {
        "movement_types": _values(params, "movement_types", MovementType.values),
        "channels": _values(params, "channels", Channel.values),
    }
    if kind == RuleKind.AMOUNT:
        clean["currency"] = require_currency(params.get("currency"), field="params.currency")
        clean["min_amount"] = require_amount(params.get("min_amount"), field="params.min_amount")
    elif kind == RuleKind.VELOCITY:
        if params.get("scope") not in VELOCITY_SCOPES:
            raise invalid("params.scope", f"One of: {', '.join(VELOCITY_SCOPES)}.", "invalid_choice")
        clean["scope"] = params["scope"]
        clean["window_seconds"] = _positive_int(params, "window_seconds", required=True, maximum=MAX_WINDOW_SECONDS)
        clean["max_count"] = _positive_int(params, "max_count", required=False)
        clean["max_amount"] = _positive_int(params, "max_amount", required=False)
        if clean["max_count"] is None and clean["max_amount"] is None:
            raise invalid("params.max_count", "A velocity rule limits a count, an amount, or both.", "required")
        if clean["max_amount"] is not None:
            clean["currency"] = require_currency(params.get("currency"), field="params.currency")
    elif kind == RuleKind.NEW_DEVICE:
        known = params.get("min_known_devices", 1)
        if isinstance(known, bool) or not isinstance(known, int) or not 0 <= known <= 100:
            raise invalid("params.min_known_devices", "An integer from 0 to 100.")
        clean["min_known_devices"] = known
    elif kind == RuleKind.GEO_MISMATCH:
        clean["max_speed_kmh"] = _positive_int(params, "max_speed_kmh", required=False, maximum=100_000)
        countries = params.get("allowed_countries", [])
        if not isinstance(countries, list) or any(not _COUNTRY.match(str(c)) for c in countries):
            raise invalid("params.allowed_countries", "A list of ISO 3166-1 alpha-2 codes.")
        clean["allowed_countries"] = sorted(set(countries))
        compare = params.get("compare_ip_to_location", True)
        if not isinstance(compare, bool):
            raise invalid("params.compare_ip_to_location", "true or false.")
        clean["compare_ip_to_location"] = compare
        if not (clean["max_speed_kmh"] or clean["allowed_countries"] or compare):
            raise invalid("params.compare_ip_to_location", "The rule must check something.", "required")
    else:
        kinds = _values(params, "kinds", BlockKind.values)
        clean["kinds"] = kinds or sorted(BlockKind.values)
    return clean


def block_value(kind: object, value: object) -> tuple[str, str]:
    kind = choice(kind, "kind", BlockKind)
    if kind == BlockKind.IP:
        text = identifier(value, "value", max_length=49)
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise invalid("value", "An IP address or a CIDR network such as 203.0.113.0/24.") from None
        return kind, str(network.network_address) if network.num_addresses == 1 else str(network)
    return kind, identifier(value, "value", max_length=200)


def action(value: object) -> str:
    return choice(value, "action", RuleAction)
