"""Velocity under real concurrency: committed data, one connection per worker thread."""

from collections import Counter
from datetime import timedelta

from django.utils import timezone

from contexts.fraud import api, services
from contexts.fraud.models import Assessment
from finfactory.ids import new_id
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant
from tests.helpers import in_parallel as run_in_parallel

WORKERS = 20


def in_parallel(tenant, work) -> Counter:
    return run_in_parallel(tenant, work, workers=WORKERS, refusal=lambda error: ("refused", error.code))


def test_twenty_parallel_movements_never_pass_an_amount_velocity(committed_tenants):
    tenant = committed_tenants("frv").tenant
    customer_id, now = new_id("cus"), timezone.now()
    with in_tenant(tenant), acting_as("system:test"):
        services.rule_version_create(
            code="daily-amount", name="PHP 5,000 a day", kind="velocity", action="decline", weight=100,
            params={"scope": "customer", "window_seconds": 86_400, "max_amount": 500_000, "currency": "PHP"},
            reason="concurrency test", effective_from=now - timedelta(hours=1),
        )  # fmt: skip

    outcomes = in_parallel(
        tenant,
        lambda i: api.score(
            reference=f"par-{i}", customer_id=customer_id, wallet_id=new_id("wal"), movement_type="transfer",
            amount=100_000, currency="PHP", channel="app", occurred_at=now,
        ).decision,
    )  # fmt: skip

    # Twenty of 1,000.00 against 5,000.00 a day: exactly five pass, whatever the interleaving.
    assert outcomes == Counter({"approve": 5, "decline": 15})
    with in_tenant(tenant):
        approved = Assessment.objects.filter(customer_id=customer_id, decision="approve")
        assert sum(approved.values_list("amount", flat=True)) == 500_000


def test_twenty_parallel_retries_of_one_reference_score_it_once(committed_tenants):
    tenant = committed_tenants("frr").tenant
    customer_id, wallet_id = new_id("cus"), new_id("wal")

    outcomes = in_parallel(
        tenant,
        lambda i: api.score(
            reference="same-payment", customer_id=customer_id, wallet_id=wallet_id, movement_type="cash_out",
            amount=5_000, currency="PHP", channel="web",
        ).replayed,
    )  # fmt: skip

    assert outcomes == Counter({False: 1, True: 19})
    with in_tenant(tenant):
        assert Assessment.objects.filter(reference="same-payment").count() == 1


def test_parallel_count_velocity_on_one_counterparty_from_many_customers(committed_tenants):
    tenant = committed_tenants("frc").tenant
    now = timezone.now()
    with in_tenant(tenant), acting_as("system:test"):
        services.rule_version_create(
            code="mule-fan-in", name="Fan-in", kind="velocity", action="review", weight=0,
            params={"scope": "counterparty", "window_seconds": 600, "max_count": 8},
            reason="concurrency test", effective_from=now - timedelta(hours=1),
        )  # fmt: skip

    outcomes = in_parallel(
        tenant,
        lambda i: api.score(
            reference=f"fan-{i}", customer_id=new_id("cus"), wallet_id=new_id("wal"), movement_type="transfer",
            amount=1_000, currency="PHP", channel="app", counterparty="wal_mule", occurred_at=now,
        ).decision,
    )  # fmt: skip

    # Reviews are not declines: every movement counts, so from the ninth on each is held.
    assert outcomes == Counter({"approve": 8, "review": 12})
