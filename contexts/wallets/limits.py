"""Limit reservations: orchestration counts a movement against the wallet's limits before it
moves money (`limits_reserve`) and gives the usage back if a later step fails (`limits_release`).

Counters: one `LimitUsage` row per wallet and flow holds the current day's and month's totals
and counts. A reservation changes it with ONE conditional UPDATE that, in the same statement,
starts a new period from zero, checks all four period limits against the row as it is when the
row lock is granted, and adds the amount — so concurrent reservations can never pass a limit
together, and nothing resets counters at midnight. Giving back is one UPDATE too, applied only
to the periods the reservation was counted in (a day that is over stays over).

Locks (locks.py): the wallet row in share mode (no status or tier change while a reservation
is being counted) → the usage row → the reservation's unique reference; a release locks its
reservation, then the usage row. Neither takes the audit or customer locks: reservations are on
the money path and are recorded by their own rows, not in the audit trail.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from finfactory.errors import BusinessRuleViolation, Conflict, FieldError, NotFound, RetryableError
from finfactory.money import require_amount, require_currency

from . import locks, validation
from .dtos import FlowLimits, ReservationDTO
from .models import LimitPolicy, LimitReservation, LimitUsage, ReservationStatus, TierFlowLimit, WalletStatus
from .selectors import flow_limits_of, periods, reservation_dto, reservation_row, wallet_row

# Checked in this order when explaining a refusal.
PERIOD_LIMITS = (
    ("daily_amount", "day", "day_amount"),
    ("daily_count", "day", "day_count"),
    ("monthly_amount", "month", "month_amount"),
    ("monthly_count", "month", "month_count"),
)

_COUNT = """
UPDATE wallets_limitusage SET
    day = GREATEST(day, %(day)s),
    day_amount = CASE WHEN day >= %(day)s THEN day_amount ELSE 0 END + %(amount)s,
    day_count = CASE WHEN day >= %(day)s THEN day_count ELSE 0 END + 1,
    month = GREATEST(month, %(month)s),
    month_amount = CASE WHEN month >= %(month)s THEN month_amount ELSE 0 END + %(amount)s,
    month_count = CASE WHEN month >= %(month)s THEN month_count ELSE 0 END + 1
WHERE wallet_id = %(wallet)s AND kind = %(kind)s
  AND (%(daily_amount)s::bigint IS NULL
       OR CASE WHEN day >= %(day)s THEN day_amount ELSE 0 END + %(amount)s <= %(daily_amount)s::bigint)
  AND (%(daily_count)s::integer IS NULL
       OR CASE WHEN day >= %(day)s THEN day_count ELSE 0 END + 1 <= %(daily_count)s::integer)
  AND (%(monthly_amount)s::bigint IS NULL
       OR CASE WHEN month >= %(month)s THEN month_amount ELSE 0 END + %(amount)s <= %(monthly_amount)s::bigint)
  AND (%(monthly_count)s::integer IS NULL
       OR CASE WHEN month >= %(month)s THEN month_count ELSE 0 END + 1 <= %(monthly_count)s::integer)
RETURNING day, month
"""
# GREATEST and ">=": if another server's clock is a little ahead and already moved the row to the
# next day, this reservation counts in that later day instead of wiping it (never backwards).

_GIVE_BACK = """
UPDATE wallets_limitusage SET
    day_amount = day_amount - CASE WHEN day = %(day)s THEN %(amount)s ELSE 0 END,
    day_count = day_count - CASE WHEN day = %(day)s THEN 1 ELSE 0 END,
    month_amount = month_amount - CASE WHEN month = %(month)s THEN %(amount)s ELSE 0 END,
    month_count = month_count - CASE WHEN month = %(month)s THEN 1 ELSE 0 END
WHERE wallet_id = %(wallet)s AND kind = %(kind)s
"""


def _refused(kind: str, limit: str, message: str, *, limit_value: int, used: int | None) -> BusinessRuleViolation:
    return BusinessRuleViolation(
        f"{kind}: {message}",
        code="limit_exceeded",
        errors=[FieldError("amount", message, "limit_exceeded")],
        kind=kind,
        limit=limit,
        limit_value=limit_value,
        used=used,
    )


def _check_amount(kind: str, amount: int, flow: FlowLimits) -> None:
    if amount < flow.min_amount:
        raise _refused(kind, "min_amount", f"Below the minimum of {flow.min_amount}.", limit_value=flow.min_amount,
                       used=None)  # fmt: skip
    if flow.max_amount is not None and amount > flow.max_amount:
        raise _refused(kind, "max_amount", f"Above the maximum of {flow.max_amount}.", limit_value=flow.max_amount,
                       used=None)  # fmt: skip


def _count(wallet_pk: int, kind: str, amount: int, flow: FlowLimits, day: date, month: date):
    with connection.cursor() as cursor:
        cursor.execute(
            _COUNT,
            {
                "wallet": wallet_pk, "kind": kind, "amount": amount, "day": day, "month": month,
                "daily_amount": flow.daily_amount, "daily_count": flow.daily_count,
                "monthly_amount": flow.monthly_amount, "monthly_count": flow.monthly_count,
            },
        )  # fmt: skip
        return cursor.fetchone()


def _exceeded(wallet_pk: int, kind: str, amount: int, flow: FlowLimits, day: date, month: date):
    """The limit that refused the reservation, read from the row after the UPDATE declined it
    (None if a concurrent release made room in between: the caller tries again)."""
    usage = LimitUsage.objects.get(wallet_id=wallet_pk, kind=kind)
    current = {"day": day, "month": month}
    for limit, period, column in PERIOD_LIMITS:
        limit_value = getattr(flow, limit)
        if limit_value is None:
            continue
        row_period = getattr(usage, period)
        used = getattr(usage, column) if row_period is not None and row_period >= current[period] else 0
        asked = amount if column.endswith("amount") else 1
        if used + asked > limit_value:
            what = "daily" if period == "day" else "monthly"
            noun = "amount" if column.endswith("amount") else "number of movements"
            return _refused(
                kind, limit, f"The {what} {noun} limit of {limit_value} would be exceeded ({used} used).",
                limit_value=limit_value, used=used,
            )  # fmt: skip
    return None


def _replay(existing: LimitReservation, *, wallet_id: str, kind: str, amount: int, currency: str) -> ReservationDTO:
    asked = (wallet_id, kind, amount, currency)
    if (existing.wallet.public_id, existing.kind, existing.amount, existing.currency) != asked:
        raise Conflict(
            f"reference {existing.reference!r} was already used for a different reservation",
            code="reference_reused",
            errors=[FieldError("reference", "Already used for a different reservation.", "reference_reused")],
        )
    return reservation_dto(existing, wallet_public_id=existing.wallet.public_id, replayed=True)


def limits_reserve(
    *, wallet_id: str, kind: str, amount: int, currency: str, reference: str, now: datetime | None = None
) -> ReservationDTO:
    """Count `amount` of flow `kind` against the wallet's limits, or refuse with `limit_exceeded`.

    `now` is for tests and replays of the clock only; callers leave it to the server.
    """
    wallet_id = validation.wallet_id(wallet_id)
    kind = validation.kind(kind)
    amount = require_amount(amount)
    currency = require_currency(currency)
    reference = validation.reference(reference)
    existing = reservation_row(reference)
    if existing is not None:
        return _replay(existing, wallet_id=wallet_id, kind=kind, amount=amount, currency=currency)
    wallet = wallet_row(wallet_id)
    now = now or timezone.now()
    try:
        with transaction.atomic():
            status, wallet_currency, kyc_level = locks.wallet_share(wallet.pk)
            if status != WalletStatus.ACTIVE:
                raise BusinessRuleViolation(
                    f"The wallet is {status}: it can neither send nor receive.",
                    code="wallet_not_active",
                    errors=[FieldError("wallet_id", f"The wallet is {status}.", "wallet_not_active")],
                )
            if currency != wallet_currency:
                raise BusinessRuleViolation(
                    f"The wallet holds {wallet_currency}, not {currency}.",
                    code="currency_mismatch",
                    errors=[FieldError("currency", f"The wallet holds {wallet_currency}.", "currency_mismatch")],
                )
            flow = flow_limits_of(
                TierFlowLimit.objects.get(tier__kyc_level=kyc_level, tier__currency=wallet_currency, kind=kind)
            )
            _check_amount(kind, amount, flow)
            day, month = periods(now, LimitPolicy.objects.values_list("time_zone", flat=True).get(pk=1))
            counted = None
            for _attempt in range(3):
                counted = _count(wallet.pk, kind, amount, flow, day, month)
                if counted is not None:
                    break
                refusal = _exceeded(wallet.pk, kind, amount, flow, day, month)
                if refusal is not None:
                    raise refusal
            if counted is None:  # releases kept making room just as the check declined: rare
                raise RetryableError("The wallet's limits are busy; try again.", code="limits_busy")
            counted_day, counted_month = counted
            reservation = LimitReservation.objects.create(
                reference=reference, wallet_id=wallet.pk, kind=kind, amount=amount, currency=currency,
                day=counted_day, month=counted_month, created_at=now,
            )  # fmt: skip
    except IntegrityError:
        # The same reference was committed by a concurrent call: answer as a retry would be.
        existing = reservation_row(reference)
        if existing is None:
            raise
        return _replay(existing, wallet_id=wallet_id, kind=kind, amount=amount, currency=currency)
    return reservation_dto(reservation, wallet_public_id=wallet.public_id)


def limits_release(*, reference: str, now: datetime | None = None) -> ReservationDTO:
    """Give a reservation's usage back, once. Releasing it again answers as the first time did
    (`replayed`); an unknown reference is 404 `reservation_not_found`."""
    reference = validation.reference(reference)
    with transaction.atomic():
        reservation = (
            LimitReservation.objects.select_for_update(of=("self",))
            .select_related("wallet")
            .filter(reference=reference)
            .first()
        )
        if reservation is None:
            raise NotFound(
                f"No reservation with reference {reference!r}.",
                code="reservation_not_found",
                errors=[FieldError("reference", "No such reservation.", "reservation_not_found")],
            )
        if reservation.status == ReservationStatus.RELEASED:
            return reservation_dto(reservation, wallet_public_id=reservation.wallet.public_id, replayed=True)
        reservation.status = ReservationStatus.RELEASED
        reservation.released_at = now or timezone.now()
        reservation.save(update_fields=["status", "released_at"])
        with connection.cursor() as cursor:
            cursor.execute(
                _GIVE_BACK,
                {"wallet": reservation.wallet_id, "kind": reservation.kind, "amount": reservation.amount,
                 "day": reservation.day, "month": reservation.month},
            )  # fmt: skip
    return reservation_dto(reservation, wallet_public_id=reservation.wallet.public_id)
