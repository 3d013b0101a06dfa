"""Racing calls on committed data, one connection per thread: each transition happens once."""

import threading
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connections

from contexts.identity import api, kyc
from contexts.identity.adapters.base import Decision
from contexts.identity.clearance import risk_flag_clearance_request
from contexts.identity.models import Customer, KycSubmission, RiskFlag, WatchlistEntry
from contexts.identity.risk import watchlist_entry_save
from finfactory.backoffice.models import ApprovalRequest
from finfactory.backoffice.services import approval_approve
from finfactory.errors import PlatformError
from finfactory.outbox.models import OutboxEvent
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant

from .conftest import CustomerData, id_number

THREADS = 8


@pytest.fixture
def tenant(committed_tenants, unconsumed_queue):
    """Committed data; the submissions' send tasks go nowhere (nothing here needs them sent)."""
    return committed_tenants("idc").tenant


def race(tenant, call) -> Counter:
    """Run call(index) in THREADS threads released together; count outcomes (replayed, codes)."""
    outcomes: Counter = Counter()
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def work(index: int) -> None:
        try:
            with in_tenant(tenant), acting_as(f"system:thread-{index}"):
                start.wait()
                try:
                    result = call(index)
                    outcome = "replayed" if result.replayed else "done"
                except PlatformError as error:
                    outcome = error.code
        except Exception as unexpected:  # anything else would be a bug: show it in the counts
            outcome = f"crash:{type(unexpected).__name__}:{unexpected}"
        finally:
            connections.close_all()
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=work, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def published(tenant, type_: str) -> int:
    with in_tenant(tenant):
        return OutboxEvent.objects.filter(type=type_).count()


def test_racing_creates_with_one_external_id_make_one_customer(tenant):
    data = CustomerData(external_id="crm-race")

    outcomes = race(tenant, lambda index: api.customer_create(**data))

    assert outcomes == Counter({"done": 1, "replayed": THREADS - 1})
    with in_tenant(tenant):
        assert Customer.objects.filter(external_id="crm-race").count() == 1
    assert published(tenant, "customer.created") == 1


def test_racing_submissions_for_one_customer_start_one_kyc(tenant):
    with in_tenant(tenant), acting_as("system:test"):
        created = api.customer_create(**CustomerData())

    outcomes = race(
        tenant, lambda index: api.kyc_submit(customer_id=created.id, id_type="passport", id_number=id_number())
    )

    assert outcomes == Counter({"done": 1, "kyc_already_pending": THREADS - 1})
    with in_tenant(tenant):
        assert KycSubmission.objects.filter(case__customer__public_id=created.id).count() == 1
    assert published(tenant, "kyc.started") == 1


def test_racing_submissions_of_one_id_number_by_different_customers_let_one_through(tenant):
    with in_tenant(tenant), acting_as("system:test"):
        customers = [api.customer_create(**CustomerData()).id for _ in range(THREADS)]
    number = id_number()

    outcomes = race(
        tenant, lambda index: api.kyc_submit(customer_id=customers[index], id_type="passport", id_number=number)
    )

    assert outcomes == Counter({"done": 1, "id_number_in_use": THREADS - 1})
    assert published(tenant, "kyc.started") == 1


def test_racing_deliveries_of_one_decision_verify_once(tenant):
    with in_tenant(tenant), acting_as("system:test"):
        created = api.customer_create(**CustomerData())
        status = api.kyc_submit(customer_id=created.id, id_type="passport", id_number=id_number())
    decision = Decision(submission_id=status.submission_id, outcome="verified")

    outcomes = race(tenant, lambda index: kyc.kyc_decision_apply(provider="sandbox", decision=decision))

    assert outcomes == Counter({"done": 1, "replayed": THREADS - 1})
    assert published(tenant, "kyc.verified") == 1
    with in_tenant(tenant):
        assert api.kyc_status(customer_id=created.id).status == "verified"


def test_clearance_approvals_racing_provider_decisions_neither_deadlock_nor_verify_twice(tenant):
    """An approval runs its handler under the audit lock (then flag, then case); a decision takes
    the case: both take the audit lock first, so neither waits for the other in a cycle."""
    pairs = THREADS // 2
    with in_tenant(tenant), acting_as("system:test"):
        watchlist_entry_save(entry=WatchlistEntry(), full_name="Maria Makiling", list_name="internal", note="",
                             active=True, actor="user:compliance")  # fmt: skip
        users = get_user_model().objects
        maker = users.create_user(username="maker", is_staff=True)
        maker.groups.add(Group.objects.get(name="Operator"))
        checker = users.create_user(username="checker", is_staff=True)
        checker.groups.add(Group.objects.get(name="Approver"))
        work = []
        for _ in range(pairs):
            created = api.customer_create(**CustomerData(first_name="Maria", last_name="Makiling"))
            status = api.kyc_submit(customer_id=created.id, id_type="passport", id_number=id_number())
            flag = RiskFlag.objects.get(customer__public_id=created.id)
            approval = risk_flag_clearance_request(flag_id=flag.public_id, requested_by=maker, reason="fp")
            work.append((created.id, status.submission_id, approval.public_id))

    def call(index: int):
        customer_id, submission_id, approval_id = work[index // 2]
        if index % 2:
            return kyc.kyc_decision_apply(
                provider="sandbox", decision=Decision(submission_id=submission_id, outcome="verified")
            )
        approval_approve(approval_id=approval_id, approver=checker)
        return api.kyc_status(customer_id=customer_id)

    outcomes = race(tenant, call)

    assert outcomes == Counter({"done": THREADS})  # no deadlock, no error
    with in_tenant(tenant):
        assert {api.kyc_status(customer_id=c).status for c, _, _ in work} == {"verified"}
        assert set(ApprovalRequest.objects.values_list("status", flat=True)) == {"executed"}
    assert published(tenant, "kyc.verified") == pairs


def test_a_verification_racing_a_rejection_of_the_same_submission_lets_one_win(tenant):
    with in_tenant(tenant), acting_as("system:test"):
        created = api.customer_create(**CustomerData())
        status = api.kyc_submit(customer_id=created.id, id_type="passport", id_number=id_number())

    def decide(index: int):
        outcome = "verified" if index % 2 else "rejected"
        return kyc.kyc_decision_apply(
            provider="sandbox",
            decision=Decision(submission_id=status.submission_id, outcome=outcome, reason="document_rejected"),
        )

    outcomes = race(tenant, decide)

    assert outcomes["done"] == 1
    assert outcomes["done"] + outcomes["replayed"] + outcomes["decision_conflict"] == THREADS
    assert published(tenant, "kyc.verified") + published(tenant, "kyc.rejected") == 1
