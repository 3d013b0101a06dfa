"""Usage counters under real concurrency: committed data, one connection per worker thread."""

import threading
import time
from collections import Counter

from django.db import connection, connections, transaction
from django.utils import timezone

from contexts.wallets import api
from contexts.wallets.models import LimitReservation, LimitUsage
from contexts.wallets.services import kyc_level_apply
from finfactory.audit.services import audit_record
from finfactory.ids import new_id
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant
from tests.helpers import in_parallel as run_in_parallel

from .factories import WalletFactory, schedule

WORKERS = 20


def set_up(tenant, **basic_flows) -> str:
    with in_tenant(tenant), acting_as("system:test"):
        api.tiers_configure(schedule=schedule(**basic_flows), reason="concurrency test")
        return WalletFactory(kyc_level="basic").id


def in_parallel(tenant, work) -> Counter:
    """Run work(index) in WORKERS threads released together; count what each returned or raised."""
    return run_in_parallel(tenant, work, workers=WORKERS, refusal=lambda error: (error.code, error.extra.get("limit")))


def counters(tenant, wallet_id: str, kind: str) -> tuple[int, int]:
    with in_tenant(tenant):
        row = LimitUsage.objects.get(wallet__public_id=wallet_id, kind=kind)
        reserved = LimitReservation.objects.filter(wallet__public_id=wallet_id, kind=kind, status="reserved")
        assert (row.day_amount, row.day_count) == (sum(reserved.values_list("amount", flat=True)), reserved.count())
    connection.set_schema_to_public()
    return row.day_amount, row.day_count


def test_twenty_parallel_reservations_never_pass_the_daily_amount(committed_tenants):
    tenant = committed_tenants("lim").tenant
    wallet_id = set_up(tenant, cash_in={"daily_amount": 10_000, "max_amount": 10_000})

    outcomes = in_parallel(
        tenant,
        lambda i: (
            api.limits_reserve(
                wallet_id=wallet_id, kind="cash_in", amount=1_500, currency="PHP", reference=f"cin-{i}"
            ).status
        ),
    )

    # Twenty of 1,500 asked against 10,000: exactly six fit, and every other one is refused by name.
    assert outcomes == Counter({"reserved": 6, ("limit_exceeded", "daily_amount"): 14})
    assert counters(tenant, wallet_id, "cash_in") == (9_000, 6)


def test_twenty_parallel_reservations_never_pass_the_daily_count(committed_tenants):
    tenant = committed_tenants("cnt").tenant
    wallet_id = set_up(tenant, transfer_out={"daily_count": 7, "monthly_count": 50})

    outcomes = in_parallel(
        tenant,
        lambda i: (
            api.limits_reserve(
                wallet_id=wallet_id, kind="transfer_out", amount=100 + i, currency="PHP", reference=f"trf-{i}"
            ).status
        ),
    )

    assert outcomes == Counter({"reserved": 7, ("limit_exceeded", "daily_count"): 13})
    assert counters(tenant, wallet_id, "transfer_out")[1] == 7


def test_releases_racing_reservations_keep_the_counters_exact(committed_tenants):
    tenant = committed_tenants("mix").tenant
    wallet_id = set_up(tenant, cash_out={"daily_amount": 20_000, "max_amount": 20_000})
    with in_tenant(tenant), acting_as("system:test"):
        for i in range(10):
            api.limits_reserve(wallet_id=wallet_id, kind="cash_out", amount=2_000, currency="PHP", reference=f"old-{i}")
    connection.set_schema_to_public()

    def work(i: int) -> str:
        if i % 2:  # ten workers give back five earlier reservations: two racing on each, each twice
            api.limits_release(reference=f"old-{i // 4}")
            return api.limits_release(reference=f"old-{i // 4}").status
        return api.limits_reserve(
            wallet_id=wallet_id, kind="cash_out", amount=3_000, currency="PHP", reference=f"new-{i}"
        ).status

    outcomes = in_parallel(tenant, work)

    assert set(outcomes) <= {"reserved", "released", ("limit_exceeded", "daily_amount")}, outcomes
    assert outcomes["released"] == 10
    amount, count = counters(tenant, wallet_id, "cash_out")  # equal to the live reservations, to the unit
    assert amount <= 20_000
    assert amount == 5 * 2_000 + outcomes["reserved"] * 3_000
    assert count == 5 + outcomes["reserved"]


def test_the_same_reference_reserved_in_parallel_counts_once(committed_tenants):
    tenant = committed_tenants("dup").tenant
    wallet_id = set_up(tenant)

    outcomes = in_parallel(
        tenant,
        lambda i: (
            api.limits_reserve(
                wallet_id=wallet_id, kind="cash_in", amount=2_000, currency="PHP", reference="one-cash-in"
            ).replayed
        ),
    )

    assert outcomes == Counter({True: 19, False: 1})
    assert counters(tenant, wallet_id, "cash_in") == (2_000, 1)


def test_kyc_news_under_a_held_audit_lock_and_a_suspension_do_not_deadlock(committed_tenants):
    """A drain batch holds the tenant's audit lock once an earlier handler has recorded something,
    and an approved back-office action runs after `approval.approved` is recorded: wallets' writes
    must take that lock first, or these paths and ours would lock in opposite orders."""
    tenant = committed_tenants("dl").tenant
    with in_tenant(tenant), acting_as("system:test"):
        opened = WalletFactory(kyc_level="none")
    connection.set_schema_to_public()
    holding, suspending = threading.Event(), threading.Event()
    errors = []

    def drain_batch() -> None:
        try:
            with in_tenant(tenant), acting_as("event:kyc.verified"), transaction.atomic():
                audit_record(action="test.earlier_handler", target_type="test", target_id="1")
                holding.set()
                suspending.wait(timeout=10)
                time.sleep(0.3)  # the suspension is under way
                kyc_level_apply(
                    customer_id=opened.customer_id, level="full", event_id=new_id("evt"), event_type="kyc.verified",
                    occurred_at=timezone.now(),
                )  # fmt: skip
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def suspend() -> None:
        try:
            holding.wait(timeout=10)
            with in_tenant(tenant), acting_as("user:ops"):
                suspending.set()
                api.wallet_suspend(wallet_id=opened.id, reason="fraud review")
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=drain_batch), threading.Thread(target=suspend)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with in_tenant(tenant):
        final = api.wallet_get(wallet_id=opened.id)
    connection.set_schema_to_public()
    assert (final.status, final.tier) == ("suspended", "premium")


def test_twenty_parallel_opens_for_one_customer_make_one_wallet(committed_tenants):
    tenant = committed_tenants("opn").tenant
    customer = new_id("cus")
    with in_tenant(tenant), acting_as("system:test"):
        api.tiers_get()
    connection.set_schema_to_public()

    outcomes = in_parallel(
        tenant, lambda i: api.wallet_open(customer_id=customer, currency="PHP", kyc_level="basic").replayed
    )

    assert outcomes == Counter({True: 19, False: 1})
    with in_tenant(tenant):
        assert [w.status for w in api.wallet_list(customer_id=customer).items] == ["active"]
    connection.set_schema_to_public()
