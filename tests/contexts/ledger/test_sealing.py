"""The chain sealer: every committed entry joins the tenant's chain once, in order."""

import pytest

from contexts.ledger import api, canonical
from contexts.ledger.models import ChainHead, EntrySeal, JournalEntry, UnsealedEntry
from contexts.ledger.sealing import chain_seal, unsealed_count
from contexts.ledger.tasks import seal_chains
from finfactory.errors import BusinessRuleViolation
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant

from .conftest import ref


def test_posted_entries_await_the_sealer_then_form_one_chain_in_id_order(wallet):
    payer, payee = wallet(1_000), wallet()
    for amount in (10, 20, 30):
        api.transfer(
            external_ref=ref(), debit_account_id=payer.id, credit_account_id=payee.id, amount=amount, currency="PHP"
        )
    assert unsealed_count() == 4 and not EntrySeal.objects.exists()  # the funding entry and three transfers

    assert chain_seal() == 4

    seals = list(EntrySeal.objects.select_related("entry").order_by("seq"))
    assert [seal.entry_id for seal in seals] == sorted(JournalEntry.objects.values_list("id", flat=True))
    prev = canonical.GENESIS_HASH
    for seq, seal in enumerate(seals, start=1):
        assert (seal.seq, seal.prev_hash, seal.hash) == (seq, prev, canonical.seal_hash(prev, seal.entry.hash))
        prev = seal.hash
    head = ChainHead.objects.get()
    assert (head.seq, head.hash) == (4, prev)
    assert unsealed_count() == 0 and chain_seal() == 0


def test_the_sealer_works_in_batches_and_continues_the_chain(wallet):
    payer, payee = wallet(1_000), wallet()
    assert chain_seal() == 1
    for _ in range(5):
        api.transfer(
            external_ref=ref(), debit_account_id=payer.id, credit_account_id=payee.id, amount=1, currency="PHP"
        )

    assert [chain_seal(limit=2), chain_seal(limit=2), chain_seal(limit=2)] == [2, 2, 1]

    assert list(EntrySeal.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2, 3, 4, 5, 6]
    assert ChainHead.objects.get().seq == 6


def test_a_refused_posting_leaves_nothing_to_seal(wallet):
    payer, payee = wallet(10), wallet()
    waiting = unsealed_count()

    with pytest.raises(BusinessRuleViolation):
        api.transfer(
            external_ref=ref(), debit_account_id=payer.id, credit_account_id=payee.id, amount=11, currency="PHP"
        )

    assert unsealed_count() == waiting
    assert UnsealedEntry.objects.count() == JournalEntry.objects.count()


def test_the_beat_task_seals_every_tenant(make_tenant):
    tenants = [make_tenant(name).tenant for name in ("sealone", "sealtwo")]
    for tenant in tenants:
        with in_tenant(tenant), acting_as("system:test"):
            wallet = api.account_open(currency="PHP", type="liability")
            api.transfer(
                external_ref=ref(), debit_account_id=api.system_account(code="float", currency="PHP").id,
                credit_account_id=wallet.id, amount=5, currency="PHP",
            )  # fmt: skip

    assert seal_chains() == {tenant.slug: 1 for tenant in tenants}
    assert seal_chains() == {}
