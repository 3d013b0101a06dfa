"""Limits per tier: per-movement minimum and maximum, daily and monthly totals and counts, and
reservations that orchestration can give back — each idempotent by its reference."""

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from contexts.wallets import api, selectors
from contexts.wallets import limits as limit_service
from contexts.wallets.models import LimitReservation
from finfactory.errors import BusinessRuleViolation, Conflict, InvalidInput, NotFound

from .conftest import ref, usage, writes

MANILA = ZoneInfo("Asia/Manila")


def at(*args) -> datetime:
    """A moment given in Manila time (the factories' schedule time zone)."""
    return datetime(*args, tzinfo=MANILA)


def reserve(wallet_id, amount, kind="cash_in", reference=None, now=None, currency="PHP"):
    if now is None:
        return api.limits_reserve(
            wallet_id=wallet_id, kind=kind, amount=amount, currency=currency, reference=reference or ref()
        )
    return limit_service.limits_reserve(
        wallet_id=wallet_id, kind=kind, amount=amount, currency=currency, reference=reference or ref(), now=now
    )


def refused(wallet_id, amount, **kwargs) -> BusinessRuleViolation:
    before = writes()
    with pytest.raises(BusinessRuleViolation) as caught:
        reserve(wallet_id, amount, **kwargs)
    assert writes() == before  # a refusal leaves no reservation and no usage behind
    return caught.value


def test_limits_get_shows_the_tier_its_limits_and_zero_usage(wallet):
    opened = wallet(kyc_level="none")

    limits = api.limits_get(wallet_id=opened.id)

    assert (limits.tier, limits.kyc_level, limits.currency, limits.max_balance) == ("starter", "none", "PHP", 1_000_000)
    assert limits.time_zone == "Asia/Manila"
    cash_in = limits.flow("cash_in")
    assert cash_in.limits == api.FlowLimits(
        kind="cash_in", min_amount=100, max_amount=1_000_000, daily_amount=1_000_000, daily_count=10,
        monthly_amount=1_000_000, monthly_count=30,
    )  # fmt: skip
    assert [(f.kind, f.day_amount, f.day_count, f.month_amount, f.month_count) for f in limits.flows] == [
        ("cash_in", 0, 0, 0, 0), ("cash_out", 0, 0, 0, 0), ("transfer_out", 0, 0, 0, 0),
    ]  # fmt: skip


def test_a_reservation_counts_against_the_day_and_the_month(limits, wallet):
    opened = wallet()

    first = reserve(opened.id, 12_345, reference="cin-1")
    reserve(opened.id, 1_000, kind="cash_out")

    assert (first.reference, first.wallet_id, first.kind, first.amount, first.status) == (
        "cin-1", opened.id, "cash_in", 12_345, "reserved",
    )  # fmt: skip
    assert first.id.startswith("rsv_") and not first.replayed
    now = api.limits_get(wallet_id=opened.id)
    assert (first.day, first.month) == (now.day, now.month)
    cash_in, cash_out, transfer = now.flows
    assert (cash_in.day_amount, cash_in.day_count, cash_in.month_amount, cash_in.month_count) == (12_345, 1, 12_345, 1)
    assert (cash_out.day_amount, cash_out.day_count) == (1_000, 1)
    assert (transfer.day_amount, transfer.day_count) == (0, 0)


def test_each_movement_must_be_within_the_minimum_and_maximum(limits, wallet):
    limits(cash_in={"min_amount": 500, "max_amount": 20_000})
    opened = wallet()

    small = refused(opened.id, 499)
    large = refused(opened.id, 20_001)

    assert (small.code, small.extra) == (
        "limit_exceeded", {"kind": "cash_in", "limit": "min_amount", "limit_value": 500, "used": None},
    )  # fmt: skip
    assert (large.code, large.extra["limit"], large.extra["limit_value"]) == ("limit_exceeded", "max_amount", 20_000)
    assert [(e.field, e.code) for e in large.errors] == [("amount", "limit_exceeded")]
    assert reserve(opened.id, 500).amount == 500 and reserve(opened.id, 20_000).amount == 20_000


def test_the_daily_amount_cannot_be_exceeded_and_a_release_restores_headroom(limits, wallet):
    limits(cash_in={"daily_amount": 10_000, "max_amount": 10_000})
    opened = wallet()
    reserve(opened.id, 6_000, reference="a")
    reserve(opened.id, 4_000, reference="b")

    over = refused(opened.id, 100)

    assert over.code == "limit_exceeded"
    assert over.extra == {"kind": "cash_in", "limit": "daily_amount", "limit_value": 10_000, "used": 10_000}
    assert over.status == 422

    released = api.limits_release(reference="a")

    assert (released.status, released.replayed) == ("released", False) and released.released_at is not None
    assert api.limits_get(wallet_id=opened.id).flow("cash_in").day_amount == 4_000
    assert reserve(opened.id, 6_000).amount == 6_000
    assert refused(opened.id, 100).extra["limit"] == "daily_amount"


def test_the_daily_count_cannot_be_exceeded(limits, wallet):
    limits(transfer_out={"daily_count": 3})
    opened = wallet()
    for _ in range(3):
        reserve(opened.id, 100, kind="transfer_out")

    over = refused(opened.id, 100, kind="transfer_out")

    assert over.extra == {"kind": "transfer_out", "limit": "daily_count", "limit_value": 3, "used": 3}
    assert reserve(opened.id, 100, kind="cash_out").kind == "cash_out"  # other flows have their own counters


def test_the_monthly_amount_and_count_hold_across_days(limits, wallet):
    limits(
        cash_out={
            "daily_amount": 10_000,
            "daily_count": 4,
            "monthly_amount": 25_000,
            "monthly_count": 4,
            "max_amount": 10_000,
        }
    )
    opened = wallet()
    reserve(opened.id, 10_000, kind="cash_out", now=at(2025, 3, 3, 9))
    reserve(opened.id, 10_000, kind="cash_out", now=at(2025, 3, 4, 9))

    by_amount = refused(opened.id, 5_001, kind="cash_out", now=at(2025, 3, 5, 9))
    reserve(opened.id, 2_000, kind="cash_out", now=at(2025, 3, 5, 9))
    reserve(opened.id, 2_000, kind="cash_out", now=at(2025, 3, 6, 9))
    by_count = refused(opened.id, 100, kind="cash_out", now=at(2025, 3, 7, 9))

    assert by_amount.extra == {"kind": "cash_out", "limit": "monthly_amount", "limit_value": 25_000, "used": 20_000}
    assert by_count.extra == {"kind": "cash_out", "limit": "monthly_count", "limit_value": 4, "used": 4}
    assert reserve(opened.id, 10_000, kind="cash_out", now=at(2025, 4, 1, 0, 0, 1)).month == date(2025, 4, 1)


def test_a_day_ends_at_midnight_in_the_schedules_time_zone(limits, wallet):
    limits(cash_in={"daily_amount": 10_000, "max_amount": 10_000})
    opened = wallet()
    # 23:59:59 in Manila is 15:59:59 UTC: still the 31st there.
    last_second = reserve(opened.id, 10_000, now=datetime(2025, 1, 31, 15, 59, 59, tzinfo=ZoneInfo("UTC")))

    assert refused(opened.id, 100, now=at(2025, 1, 31, 23, 59, 59)).extra["limit"] == "daily_amount"
    next_day = reserve(opened.id, 10_000, now=at(2025, 2, 1, 0, 0, 0))

    assert (last_second.day, last_second.month) == (date(2025, 1, 31), date(2025, 1, 1))
    assert (next_day.day, next_day.month) == (date(2025, 2, 1), date(2025, 2, 1))
    assert usage(opened.id, "cash_in") == (date(2025, 2, 1), 10_000, 1, date(2025, 2, 1), 10_000, 1)


def test_limits_get_reads_usage_of_a_past_day_as_zero(limits, wallet):
    opened = wallet()
    reserve(opened.id, 3_000, now=at(2025, 5, 10, 12))

    same_month = selectors.limits_get(opened.id, now=at(2025, 5, 11, 12)).flow("cash_in")
    next_month = selectors.limits_get(opened.id, now=at(2025, 6, 1, 12)).flow("cash_in")

    assert (same_month.day_amount, same_month.day_count, same_month.month_amount, same_month.month_count) == (
        0, 0, 3_000, 1,
    )  # fmt: skip
    assert (next_month.day_amount, next_month.month_amount) == (0, 0)


def test_a_release_after_the_day_ended_gives_back_to_the_month_only(limits, wallet):
    opened = wallet()
    reserve(opened.id, 3_000, reference="yesterday", now=at(2025, 5, 10, 12))
    reserve(opened.id, 2_000, reference="today", now=at(2025, 5, 11, 12))

    api.limits_release(reference="yesterday")

    assert usage(opened.id, "cash_in") == (date(2025, 5, 11), 2_000, 1, date(2025, 5, 1), 2_000, 1)


def test_a_release_after_the_month_ended_changes_no_current_counter(limits, wallet):
    opened = wallet()
    reserve(opened.id, 3_000, reference="april", now=at(2025, 4, 30, 23))
    reserve(opened.id, 2_000, reference="may", now=at(2025, 5, 1, 1))

    api.limits_release(reference="april")

    assert usage(opened.id, "cash_in") == (date(2025, 5, 1), 2_000, 1, date(2025, 5, 1), 2_000, 1)


def test_a_server_whose_clock_lags_counts_in_the_later_day_and_never_wipes_it(limits, wallet):
    limits(cash_in={"daily_amount": 10_000, "max_amount": 10_000})
    opened = wallet()
    reserve(opened.id, 8_000, now=at(2025, 7, 2, 0, 0, 1))

    late = refused(opened.id, 3_000, now=at(2025, 7, 1, 23, 59, 59))
    counted = reserve(opened.id, 2_000, now=at(2025, 7, 1, 23, 59, 59))

    assert late.extra["used"] == 8_000  # the later day's usage was not reset
    assert counted.day == date(2025, 7, 2)
    assert usage(opened.id, "cash_in") == (date(2025, 7, 2), 10_000, 2, date(2025, 7, 1), 10_000, 2)


def test_a_replayed_reservation_returns_the_first_and_counts_once(limits, wallet):
    opened = wallet()
    first = reserve(opened.id, 2_500, reference="cin-9")
    before = writes()

    again = reserve(opened.id, 2_500, reference="cin-9")

    assert again.replayed and again.id == first.id and again.created_at == first.created_at
    assert writes() == before
    assert api.limits_get(wallet_id=opened.id).flow("cash_in").day_count == 1


def test_a_reference_reused_for_another_reservation_is_a_conflict(limits, wallet):
    opened, other = wallet(), wallet()
    reserve(opened.id, 2_500, reference="cin-10")
    before = writes()

    for kwargs in ({"amount": 2_501}, {"kind": "cash_out"}, {"wallet_id": other.id}):
        with pytest.raises(Conflict) as caught:
            reserve(**{"wallet_id": opened.id, "amount": 2_500, "reference": "cin-10", **kwargs})
        assert (caught.value.status, caught.value.code) == (409, "reference_reused")
        assert [e.field for e in caught.value.errors] == ["reference"]
    assert writes() == before


def test_a_refused_reservation_leaves_no_trace_so_its_reference_can_be_retried(limits, wallet):
    limits(cash_in={"daily_amount": 5_000, "max_amount": 5_000})
    opened = wallet()
    reserve(opened.id, 5_000, reference="full")
    refused(opened.id, 1_000, reference="retry-me")
    api.limits_release(reference="full")

    assert not reserve(opened.id, 1_000, reference="retry-me").replayed


def test_releasing_twice_gives_back_once(limits, wallet):
    opened = wallet()
    reserve(opened.id, 4_000, reference="one")
    reserve(opened.id, 1_000, reference="two")
    first = api.limits_release(reference="one")
    before = writes()

    again = api.limits_release(reference="one")

    assert again.replayed and again.released_at == first.released_at
    assert writes() == before
    assert api.limits_get(wallet_id=opened.id).flow("cash_in").day_amount == 1_000


def test_releasing_an_unknown_reference_is_a_clear_error(limits, wallet):
    with pytest.raises(NotFound) as caught:
        api.limits_release(reference="never-reserved")

    assert (caught.value.status, caught.value.code) == (404, "reservation_not_found")
    assert [(e.field, e.code) for e in caught.value.errors] == [("reference", "reservation_not_found")]


@pytest.mark.parametrize("state", ["suspended", "closed"])
def test_a_wallet_that_is_not_active_cannot_reserve_but_can_give_back(limits, wallet, state):
    opened = wallet()
    reserve(opened.id, 1_000, reference="before")
    api.wallet_suspend(wallet_id=opened.id, reason="review")
    if state == "closed":
        evidence = api.ClosingBalance(ledger_account_id="acc_" + "0" * 26, posted=0, held=0, sequence=0)
        api.wallet_close(wallet_id=opened.id, reason="gone", closing_balance=evidence)

    caught = refused(opened.id, 100)

    assert (caught.code, [e.field for e in caught.errors]) == ("wallet_not_active", ["wallet_id"])
    assert api.limits_release(reference="before").status == "released"


def test_a_reservation_in_another_currency_is_refused(limits, wallet):
    caught = refused(wallet().id, 100, currency="USD")

    assert (caught.code, [e.field for e in caught.errors]) == ("currency_mismatch", ["currency"])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"wallet_id": "wal_nope"}, "wallet_id"),
        ({"kind": "transfer_in"}, "kind"),
        ({"amount": 0}, "amount"),
        ({"amount": 10.5}, "amount"),
        ({"amount": True}, "amount"),
        ({"currency": "peso"}, "currency"),
        ({"reference": ""}, "reference"),
        ({"reference": "r" * 201}, "reference"),
    ],
)
def test_bad_input_to_reserve_names_the_field_and_writes_nothing(limits, wallet, kwargs, field):
    opened = wallet()
    before = writes()

    with pytest.raises(InvalidInput) as caught:
        api.limits_reserve(**{"wallet_id": opened.id, "kind": "cash_in", "amount": 100, "currency": "PHP",
                              "reference": "ok", **kwargs})  # fmt: skip

    assert [e.field for e in caught.value.errors] == [field]
    assert writes() == before


def test_an_unknown_wallet_cannot_reserve(limits):
    with pytest.raises(NotFound) as caught:
        reserve("wal_" + "0" * 26, 100)

    assert caught.value.code == "wallet_not_found"
    assert LimitReservation.objects.count() == 0


def test_limits_follow_the_current_tier_of_the_wallet(limits, wallet):
    limits(cash_in={"daily_amount": 1_000, "max_amount": 1_000})
    basic, full = wallet(kyc_level="basic"), wallet(kyc_level="full")

    assert refused(basic.id, 1_001).extra["limit"] == "max_amount"
    assert reserve(full.id, 1_001).amount == 1_001
    assert api.limits_get(wallet_id=full.id).tier == "gold"


def test_a_limit_left_empty_means_no_limit_of_that_kind(limits, wallet):
    limits(cash_in={"max_amount": None, "daily_amount": None, "daily_count": None, "monthly_amount": None,
                    "monthly_count": None})  # fmt: skip
    opened = wallet()

    for _ in range(12):
        reserve(opened.id, 10**12)

    assert api.limits_get(wallet_id=opened.id).flow("cash_in").day_count == 12


def test_periods_follow_the_schedule_time_zone_as_configured(limits, wallet):
    api.tiers_configure(schedule=replace(api.tiers_get().schedule, time_zone="UTC"), reason="days in UTC")
    opened = wallet()

    # 07:00 on the 2nd in Manila is still 23:00 on the 1st in UTC.
    counted = reserve(opened.id, 100, now=at(2025, 9, 2, 7))

    assert (counted.day, counted.month) == (date(2025, 9, 1), date(2025, 9, 1))
    assert api.limits_get(wallet_id=opened.id).time_zone == "UTC"
