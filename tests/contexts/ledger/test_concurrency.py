"""Concurrency on real PostgreSQL, with committed data and one connection per worker thread."""

import random
import threading
from collections import Counter

import pytest
from django.db import connection, connections, transaction

from contexts.ledger import api
from contexts.ledger.models import Account, EntrySeal
from contexts.ledger.sealing import chain_seal
from contexts.ledger.verify import ledger_verify
from finfactory.errors import BusinessRuleViolation, PlatformError, RetryableError
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant

WORKERS = 20
TRANSFERS_EACH = 50
FUNDING = 1_000


def open_funded_wallets(tenant, count: int) -> tuple[str, list[str]]:
    with in_tenant(tenant), acting_as("system:test"):
        float_id = api.system_account(code="float", currency="PHP").id
        wallets = []
        for index in range(count):
            wallet = api.account_open(currency="PHP", type="liability", owner_ref=f"w{index}").id
            api.transfer(
                external_ref=f"fund-{index}", debit_account_id=float_id, credit_account_id=wallet, amount=FUNDING,
                currency="PHP",
            )  # fmt: skip
            wallets.append(wallet)
    return float_id, wallets


def run_workers(tenant, pick) -> Counter:
    """WORKERS threads, each posting TRANSFERS_EACH transfers chosen by pick(rng, index), while
    two sealers keep chaining what they commit."""
    outcomes: Counter = Counter()
    lock = threading.Lock()
    start = threading.Barrier(WORKERS)
    posting_done = threading.Event()

    def seal() -> None:
        try:
            with in_tenant(tenant):
                while not posting_done.is_set():
                    outcomes["sealed"] += chain_seal(limit=25)
        finally:
            connections.close_all()

    sealers = [threading.Thread(target=seal) for _ in range(2)]
    for sealer in sealers:
        sealer.start()

    def work(worker: int) -> None:
        rng = random.Random(worker)
        local: Counter = Counter()
        try:
            with in_tenant(tenant), acting_as(f"system:worker-{worker}"):
                start.wait()
                for index in range(TRANSFERS_EACH):
                    debit, credit = pick(rng, index)
                    try:
                        api.transfer(
                            external_ref=f"t-{worker}-{index}", debit_account_id=debit, credit_account_id=credit,
                            amount=rng.randint(1, 400), currency="PHP",
                        )  # fmt: skip
                        local["posted"] += 1
                    except BusinessRuleViolation as refusal:
                        local[refusal.code] += 1
                    except PlatformError as error:  # anything else (ledger_busy, …) reaches the caller
                        local[f"error:{error.code}"] += 1
        except Exception as unexpected:
            local[f"crash:{type(unexpected).__name__}:{unexpected}"] += 1
        finally:
            connections.close_all()
            with lock:
                outcomes.update(local)

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    posting_done.set()
    for sealer in sealers:
        sealer.join()
    return outcomes


def assert_conserved(tenant, float_id, wallets, outcomes):
    assert set(outcomes) <= {"posted", "insufficient_funds", "sealed"}, outcomes  # no deadlock, timeout, crash
    assert outcomes["posted"] + outcomes["insufficient_funds"] == WORKERS * TRANSFERS_EACH
    assert outcomes["sealed"] > 0  # sealing ran alongside the postings
    with in_tenant(tenant):
        chain_seal()
        seqs = list(EntrySeal.objects.order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(1, len(wallets) + outcomes["posted"] + 1))  # one chain, no gap, no twin
        balances = dict(Account.objects.filter(public_id__in=wallets).values_list("public_id", "posted"))
        assert sum(balances.values()) == FUNDING * len(wallets)  # conserved to the unit
        assert min(balances.values()) >= 0
        assert Account.objects.get(public_id=float_id).posted == FUNDING * len(wallets)
        report = ledger_verify()
    assert report.ok, report.problems
    assert report.entries_checked == report.entries_sealed == len(wallets) + outcomes["posted"]


def test_twenty_workers_moving_money_among_fifty_accounts(committed_tenants):
    tenant = committed_tenants("conc").tenant
    float_id, wallets = open_funded_wallets(tenant, 50)

    outcomes = run_workers(tenant, lambda rng, index: rng.sample(wallets, 2))

    assert outcomes["posted"] > WORKERS * TRANSFERS_EACH * 0.8
    assert_conserved(tenant, float_id, wallets, outcomes)


def test_twenty_workers_on_one_hot_account(committed_tenants):
    tenant = committed_tenants("hot").tenant
    float_id, wallets = open_funded_wallets(tenant, 21)
    hot, others = wallets[0], wallets[1:]

    def pick(rng, index):
        other = rng.choice(others)
        return (hot, other) if index % 2 else (other, hot)

    outcomes = run_workers(tenant, pick)

    assert_conserved(tenant, float_id, wallets, outcomes)


def test_a_locked_account_answers_retryable_ledger_busy_instead_of_hanging(committed_tenants, settings):
    tenant = committed_tenants("busy").tenant
    _, (payer, payee) = open_funded_wallets(tenant, 2)
    settings.LEDGER_LOCK_TIMEOUT_MS = 200
    locked, release = threading.Event(), threading.Event()

    def hold_the_row_lock():
        try:
            with in_tenant(tenant), transaction.atomic():
                Account.objects.select_for_update().get(public_id=payer)
                locked.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_row_lock)
    holder.start()
    assert locked.wait(timeout=10)
    try:
        with in_tenant(tenant), pytest.raises(RetryableError) as caught:
            api.transfer(external_ref="busy", debit_account_id=payer, credit_account_id=payee, amount=1, currency="PHP")
    finally:
        release.set()
        holder.join()
    assert (caught.value.status, caught.value.code) == (503, "ledger_busy")
    with in_tenant(tenant):
        assert api.balance_get(account_id=payer).posted == FUNDING  # nothing was written
        assert not api.transfer(
            external_ref="busy", debit_account_id=payer, credit_account_id=payee, amount=1, currency="PHP"
        ).replayed
    connection.set_schema_to_public()
