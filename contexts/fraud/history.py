"""What fraud knows before scoring a movement: the customer's and wallet's history from its own
tables (assessments, the read model fed by events), read under the movement's velocity locks.

Velocity windows end at the movement's `occurred_at` and count the earlier movements not
declined: a window slides with the movement's time, so what fell out of it no longer counts, and
the locks make concurrent movements of one key count each other.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection

from .features import FeatureInputs
from .models import Decision, FraudSettings
from .validation import Movement

FEATURE_WINDOWS = (3_600, 86_400)  # the customer's 1 h and 24 h counts the model reads
DECLINE_LOOKBACK = timedelta(days=30)
_SCOPE_COLUMN = {"customer": "customer_id", "wallet": "wallet_id", "counterparty": "counterparty"}


@dataclass(frozen=True)
class Window:
    """One sliding window of one scope: movements of `types` (all if empty), amounts summed in
    `currency` (none summed if None)."""

    scope: str
    seconds: int
    currency: str | None = None
    types: tuple[str, ...] = ()


@dataclass
class Facts:
    customer_created_at: datetime | None = None  # None: fraud never heard of the customer
    kyc_level: str = "none"
    movements_count: int = 0
    movements_amount: int = 0
    wallet_created_at: datetime | None = None
    available_balance: int | None = None
    known_devices: int = 0
    device_known: bool = False
    declines_30d: int = 0
    counterparty_seen: bool = False
    last_location: tuple[float, float, datetime] | None = None
    velocity: dict[Window, tuple[int, int]] = field(default_factory=dict)
    blocked: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, value, entry id)
    review_threshold: int = 600
    decline_threshold: int = 900


def _lock_key(scope: str, value: str) -> int:
    raw = hashlib.sha256(f"fraud:{scope}:{connection.schema_name}:{value}".encode()).digest()[:8]
    return int.from_bytes(raw, "big", signed=True)


def velocity_locks(movement: Movement) -> None:
    """Lock the movement's reference and velocity keys, in ascending key order (a deterministic
    order every scoring follows, so two cannot deadlock); held until the transaction ends."""
    keys = {_lock_key("reference", movement.reference)}
    for scope, column in _SCOPE_COLUMN.items():
        value = getattr(movement, column)
        if value:
            keys.add(_lock_key(scope, value))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(%s::bigint[]) AS k", [sorted(keys)])


def _velocity(movement: Movement, windows: list[Window]) -> dict[Window, tuple[int, int]]:
    by_scope: dict[str, list[Window]] = {}
    for window in windows:
        by_scope.setdefault(window.scope, []).append(window)
    result: dict[Window, tuple[int, int]] = {}
    for scope, scoped in by_scope.items():
        key = getattr(movement, _SCOPE_COLUMN[scope])
        if not key:  # no counterparty given: nothing to count against
            result.update(dict.fromkeys(scoped, (0, 0)))
            continue
        columns, params = [], []
        for window in scoped:
            since = movement.occurred_at - timedelta(seconds=window.seconds)
            condition = "occurred_at > %s"
            condition_params: list = [since]
            if window.types:
                condition += " AND movement_type = ANY(%s)"
                condition_params.append(list(window.types))
            columns.append(f"count(*) FILTER (WHERE {condition})")
            params.extend(condition_params)
            if window.currency:
                columns.append(f"coalesce(sum(amount) FILTER (WHERE {condition} AND currency = %s), 0)")
                params.extend([*condition_params, window.currency])
            else:
                columns.append("0")
        longest = max(window.seconds for window in scoped)
        sql = (
            f"SELECT {', '.join(columns)} FROM fraud_assessment "  # noqa: S608 - columns are built here, values are parameters
            f"WHERE {_SCOPE_COLUMN[scope]} = %s AND occurred_at > %s AND occurred_at <= %s AND decision <> %s"
        )
        params.extend([key, movement.occurred_at - timedelta(seconds=longest), movement.occurred_at, Decision.DECLINE])
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        for index, window in enumerate(scoped):
            result[window] = (int(row[2 * index]), int(row[2 * index + 1]))
    return result


def _blocked(movement: Movement) -> list[tuple[str, str, str]]:
    candidates = [
        ("customer", movement.customer_id),
        ("wallet", movement.wallet_id),
        ("counterparty", movement.counterparty),
        ("device", movement.device_id),
    ]
    conditions, params = [], []
    for kind, value in candidates:
        if value:
            conditions.append("(kind = %s AND value = %s)")
            params.extend([kind, value])
    if movement.ip_address:
        # CASE fixes the order: only an ip entry's value is ever cast to a network.
        conditions.append("(CASE WHEN kind = 'ip' THEN %s::inet <<= value::inet ELSE false END)")
        params.append(movement.ip_address)
    # Fixed fragments joined; every value is a parameter.
    sql = (
        "SELECT kind, value, public_id FROM fraud_blocklistentry "  # noqa: S608
        "WHERE removed_at IS NULL AND (expires_at IS NULL OR expires_at > %s) "
        f"AND ({' OR '.join(conditions)}) ORDER BY kind, value"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [movement.occurred_at, *params])
        return [tuple(row) for row in cursor.fetchall()]


# One round trip for everything about the customer and wallet (the read model, devices, declines,
# the counterparty and the last location) and the tenant's thresholds; each part is an index lookup.
_FACTS = """
SELECT c.created_at, coalesce(c.kyc_level, 'none'), coalesce(c.movements_count, 0),
       coalesce(c.movements_amount, 0), w.created_at, a.available, d.n, d.known,
       (SELECT count(*) FROM fraud_assessment
         WHERE customer_id = %(customer)s AND decision = 'decline' AND occurred_at > %(since)s
           AND occurred_at <= %(at)s),
       %(counterparty)s <> '' AND EXISTS (
           SELECT 1 FROM fraud_assessment WHERE counterparty = %(counterparty)s AND customer_id = %(customer)s
              AND decision <> 'decline' AND occurred_at <= %(at)s),
       loc.latitude, loc.longitude, loc.occurred_at,
       coalesce(s.review_threshold, %(review)s), coalesce(s.decline_threshold, %(decline)s)
  FROM (SELECT 1) AS one
  LEFT JOIN fraud_fraudsettings s ON s.id = 1
  LEFT JOIN fraud_knowncustomer c ON c.customer_id = %(customer)s
  LEFT JOIN fraud_knownwallet w ON w.wallet_id = %(wallet)s
  LEFT JOIN LATERAL (SELECT available FROM fraud_knownaccount WHERE owner_ref = %(wallet)s
                      ORDER BY id DESC LIMIT 1) a ON true
  LEFT JOIN LATERAL (SELECT count(*) AS n, coalesce(bool_or(device_id = %(device)s), false) AS known
                       FROM fraud_knowndevice WHERE customer_id = %(customer)s) d ON true
  LEFT JOIN LATERAL (SELECT latitude, longitude, occurred_at FROM fraud_assessment
                      WHERE %(located)s AND customer_id = %(customer)s AND occurred_at <= %(at)s
                        AND latitude IS NOT NULL AND decision <> 'decline'
                      ORDER BY occurred_at DESC LIMIT 1) loc ON true
"""


def facts_gather(movement: Movement, windows: list[Window]) -> Facts:
    """Everything the rules and the model read, for one movement (call under velocity_locks)."""
    windows = list(dict.fromkeys([*(Window("customer", s, movement.currency) for s in FEATURE_WINDOWS), *windows]))
    with connection.cursor() as cursor:
        cursor.execute(
            _FACTS,
            {
                "customer": movement.customer_id,
                "wallet": movement.wallet_id,
                "device": movement.device_id,
                "counterparty": movement.counterparty,
                "located": movement.located,
                "at": movement.occurred_at,
                "since": movement.occurred_at - DECLINE_LOOKBACK,
                "review": FraudSettings._meta.get_field("review_threshold").default,
                "decline": FraudSettings._meta.get_field("decline_threshold").default,
            },
        )
        row = cursor.fetchone()
    return Facts(
        customer_created_at=row[0],
        kyc_level=row[1],
        movements_count=row[2],
        movements_amount=row[3],
        wallet_created_at=row[4],
        available_balance=row[5],
        known_devices=row[6],
        device_known=row[7],
        declines_30d=row[8],
        counterparty_seen=row[9],
        last_location=(row[10], row[11], row[12]) if row[10] is not None else None,
        velocity=_velocity(movement, windows),
        blocked=_blocked(movement),
        review_threshold=row[13],
        decline_threshold=row[14],
    )


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def _age_days(since: datetime | None, at: datetime) -> float | None:
    return None if since is None else max(0.0, (at - since).total_seconds() / 86_400)


def feature_inputs(movement: Movement, facts: Facts, *, geo_mismatch: bool) -> FeatureInputs:
    count_1h, amount_1h = facts.velocity[Window("customer", 3_600, movement.currency)]
    count_24h, _ = facts.velocity[Window("customer", 86_400, movement.currency)]
    average = facts.movements_amount / facts.movements_count if facts.movements_count else None
    return FeatureInputs(
        amount=movement.amount,
        movement_type=movement.movement_type,
        channel=movement.channel,
        occurred_at=movement.occurred_at,
        customer_avg_amount=average,
        customer_count_1h=count_1h,
        customer_amount_1h=amount_1h,
        customer_count_24h=count_24h,
        new_counterparty=bool(movement.counterparty) and not facts.counterparty_seen,
        device_given=bool(movement.device_id),
        new_device=bool(movement.device_id) and not facts.device_known,
        geo_mismatch=geo_mismatch,
        customer_age_days=_age_days(facts.customer_created_at, movement.occurred_at),
        kyc_level=facts.kyc_level,
        wallet_age_days=_age_days(facts.wallet_created_at, movement.occurred_at),
        available_balance=facts.available_balance,
        declines_30d=facts.declines_30d,
    )
