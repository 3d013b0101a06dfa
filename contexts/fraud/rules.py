"""Evaluating a tenant's rules on one movement.

Rules are data (`Rule` rows, see validation.rule_params for each kind's parameters); the version
in force at the movement's time is the one evaluated. Each rule that fires contributes its weight
to the score and its action (decline, review, or score only) to the decision.
"""

from __future__ import annotations

from dataclasses import dataclass

from .history import Facts, Window, distance_km
from .models import Rule, RuleKind
from .validation import Movement


@dataclass(frozen=True)
class Fired:
    rule: Rule
    detail: str

    def as_reason(self) -> dict:
        return {
            "type": "rule",
            "rule_id": self.rule.public_id,
            "code": self.rule.code,
            "version": self.rule.version,
            "kind": self.rule.kind,
            "action": self.rule.action,
            "weight": self.rule.weight,
            "detail": self.detail,
        }


def rules_in_force(at) -> list[Rule]:
    """The enabled version of each rule whose effective period contains `at`."""
    # Raw: this runs before every movement, and the query never changes shape.
    return list(
        Rule.objects.raw(
            "SELECT * FROM fraud_rule WHERE enabled AND effective_from <= %s "
            "AND (effective_to IS NULL OR effective_to > %s) ORDER BY code",
            [at, at],
        )
    )


def applies(rule: Rule, movement: Movement) -> bool:
    params = rule.params
    return (not params.get("movement_types") or movement.movement_type in params["movement_types"]) and (
        not params.get("channels") or movement.channel in params["channels"]
    )


def velocity_window(rule: Rule) -> Window:
    params = rule.params
    return Window(
        scope=params["scope"],
        seconds=params["window_seconds"],
        currency=params.get("currency") if params.get("max_amount") is not None else None,
        types=tuple(params.get("movement_types", ())),
    )


def windows_needed(rules: list[Rule], movement: Movement) -> list[Window]:
    return [velocity_window(rule) for rule in rules if rule.kind == RuleKind.VELOCITY and applies(rule, movement)]


def travel_speed_kmh(movement: Movement, facts: Facts) -> float | None:
    """Speed implied by the customer's last located movement and this one, if both are located."""
    if not movement.located or facts.last_location is None:
        return None
    lat, lon, at = facts.last_location
    km = distance_km(lat, lon, movement.latitude, movement.longitude)
    hours = (movement.occurred_at - at).total_seconds() / 3600
    if km < 1:
        return 0.0
    return km / max(hours, 1 / 3600)  # the same second counts as one second of travel


def _geo(movement: Movement, facts: Facts, params: dict) -> str | None:
    ip, located = movement.ip_country, movement.location_country
    if params.get("compare_ip_to_location", True) and ip and located and ip != located:
        return f"IP in {ip}, device located in {located}"
    allowed = params.get("allowed_countries") or []
    for country in (ip, located):
        if allowed and country and country not in allowed:
            return f"{country} is not an allowed country"
    limit = params.get("max_speed_kmh")
    speed = travel_speed_kmh(movement, facts) if limit else None
    if speed is not None and speed > limit:
        return f"{speed:,.0f} km/h from the customer's last located movement (limit {limit:,})"
    return None


def geo_mismatch(movement: Movement) -> bool:
    """The model's geolocation signal, independent of any rule's settings: the IP's country and
    the device's differ (what the synthetic history simulates too)."""
    ip, located = movement.ip_country, movement.location_country
    return bool(ip and located and ip != located)


def _evaluate(rule: Rule, movement: Movement, facts: Facts) -> str | None:
    params = rule.params
    if rule.kind == RuleKind.AMOUNT:
        if movement.currency == params["currency"] and movement.amount >= params["min_amount"]:
            return f"{movement.amount} {movement.currency} ≥ {params['min_amount']}"
        return None
    if rule.kind == RuleKind.VELOCITY:
        count, amount = facts.velocity[velocity_window(rule)]
        window = f"{params['scope']} in {params['window_seconds']} s"
        if params.get("max_count") is not None and count + 1 > params["max_count"]:
            return f"{count + 1} movements of the {window} (limit {params['max_count']})"
        if params.get("max_amount") is not None and movement.currency == params["currency"]:
            total = amount + movement.amount
            if total > params["max_amount"]:
                return f"{total} {movement.currency} moved by the {window} (limit {params['max_amount']})"
        return None
    if rule.kind == RuleKind.NEW_DEVICE:
        if movement.device_id and not facts.device_known and facts.known_devices >= params["min_known_devices"]:
            return f"device not seen on this customer's {facts.known_devices} known devices"
        return None
    if rule.kind == RuleKind.GEO_MISMATCH:
        return _geo(movement, facts, params)
    hits = [(kind, entry) for kind, _, entry in facts.blocked if kind in params["kinds"]]
    if hits:
        return "on the block list: " + ", ".join(f"{kind} ({entry})" for kind, entry in hits)
    return None


def rules_evaluate(rules: list[Rule], movement: Movement, facts: Facts) -> list[Fired]:
    fired = []
    for rule in rules:
        if applies(rule, movement):
            detail = _evaluate(rule, movement, facts)
            if detail is not None:
                fired.append(Fired(rule=rule, detail=detail[:500]))
    return fired
