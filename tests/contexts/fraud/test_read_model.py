"""What fraud learns from other contexts' events (by name only), and how scoring reads it."""

from datetime import timedelta

from django.utils import timezone

from contexts.fraud import api
from contexts.fraud.consumers import balance_updated, customer_created, journal_posted, wallet_created
from contexts.fraud.features import FEATURES
from contexts.fraud.models import Assessment, KnownAccount, KnownCustomer, KnownWallet
from finfactory.events.subscribers import Event, subscriptions_for
from finfactory.ids import new_id


def event(type: str, data: dict, *, sequence: int = 1, occurred_at=None) -> Event:
    return Event(
        id=new_id("evt"), type=type, version=1, tenant="frd", occurred_at=occurred_at or timezone.now(),
        aggregate_type="x", aggregate_id="x", sequence=sequence, data=data, request_id="req", actor="system:test",
    )  # fmt: skip


def deliver(type: str, data: dict, **kwargs) -> None:
    handlers = [s.handler for s in subscriptions_for(type) if s.name.startswith("fraud.")]
    assert handlers, type
    for handler in handlers:
        handler(event(type, data, **kwargs))


def features_of(result) -> dict:
    return dict(zip(FEATURES, Assessment.objects.get(public_id=result.id).features, strict=True))


def test_fraud_subscribes_by_name_to_customers_kyc_wallets_and_the_ledger(fraud):
    names = {s.name for t in ("customer.created", "kyc.verified", "kyc.expired", "wallet.created", "wallet.suspended",
                              "balance.updated", "journal.posted") for s in subscriptions_for(t)}  # fmt: skip

    assert {"fraud.customer_created", "fraud.kyc_verified", "fraud.kyc_expired", "fraud.wallet_created",
            "fraud.wallet_suspended", "fraud.balance_updated", "fraud.journal_posted"} <= names  # fmt: skip


def test_the_read_model_feeds_the_customer_wallet_and_balance_features(customer):
    alice = customer()
    account = new_id("acc")
    created = timezone.now() - timedelta(days=10)
    deliver("customer.created", {"customer_id": alice.customer_id, "external_id": None,
                                 "created_at": created.isoformat()})  # fmt: skip
    deliver("kyc.verified", {"customer_id": alice.customer_id, "kyc_id": "kyc_1", "submission_id": "sub_1",
                             "level": "full", "verified_at": created.isoformat(),
                             "expires_at": (created + timedelta(days=365)).isoformat()})  # fmt: skip
    deliver("wallet.created", {"wallet_id": alice.wallet_id, "customer_id": alice.customer_id, "currency": "PHP",
                               "status": "active", "tier": "gold", "kyc_level": "full", "max_balance": None,
                               "created_at": (created + timedelta(days=5)).isoformat()})  # fmt: skip
    deliver("balance.updated", {"account_id": account, "owner_ref": alice.wallet_id, "currency": "PHP",
                                "posted": 80_000, "held": 0, "available": 80_000, "sequence": 3, "cause": "entry",
                                "cause_id": "ent_1"}, sequence=5)  # fmt: skip

    result = api.score(**alice.move(movement_type="cash_out", amount=40_000))

    values = features_of(result)
    assert round(values["customer_age_days"]) == 10 and round(values["wallet_age_days"]) == 5
    assert (values["kyc_level"], values["balance_drain_ratio"]) == (2.0, 0.5)


def test_an_older_balance_never_overwrites_a_newer_one(fraud):
    account, wallet = new_id("acc"), new_id("wal")
    base = {"account_id": account, "owner_ref": wallet, "currency": "PHP", "held": 0, "cause": "entry",
            "cause_id": "ent_1", "sequence": 1}  # fmt: skip

    deliver("balance.updated", {**base, "posted": 500, "available": 500}, sequence=7)
    deliver("balance.updated", {**base, "posted": 100, "available": 100}, sequence=6)

    assert KnownAccount.objects.values_list("posted", "balance_sequence").get(account_id=account) == (500, 7)


def test_postings_are_counted_per_account_whatever_arrives_first(fraud):
    account, other, wallet = new_id("acc"), new_id("acc"), new_id("wal")
    posted_at = timezone.now().isoformat()
    lines = [
        {"account_id": other, "direction": "debit", "amount": 700, "currency": "PHP", "sequence": 1,
         "balance_after": 700},
        {"account_id": account, "direction": "credit", "amount": 700, "currency": "PHP", "sequence": 1,
         "balance_after": 700},
    ]  # fmt: skip
    entry = {"entry_id": "ent_1", "external_ref": "x", "kind": "transfer", "description": "", "effective_at": posted_at,
             "posted_at": posted_at, "reverses": None, "hold_id": None, "metadata": {}, "postings": lines}  # fmt: skip

    journal_posted(event("journal.posted", entry))
    balance_updated(event("balance.updated", {"account_id": account, "owner_ref": wallet, "currency": "PHP",
                                              "posted": 700, "held": 0, "available": 700, "sequence": 1,
                                              "cause": "entry", "cause_id": "ent_1"}))  # fmt: skip
    journal_posted(event("journal.posted", {**entry, "entry_id": "ent_2", "postings": list(reversed(lines))}))

    row = KnownAccount.objects.get(account_id=account)
    assert (row.owner_ref, row.credits_count, row.credits_amount, row.debits_count, row.posted) == (
        wallet,
        2,
        1400,
        0,
        700,
    )


def test_kyc_and_wallet_status_follow_their_events_and_an_older_kyc_change_is_ignored(fraud):
    customer_id, wallet_id = new_id("cus"), new_id("wal")
    now = timezone.now()
    customer_created(event("customer.created", {"customer_id": customer_id, "external_id": None,
                                                "created_at": now.isoformat()}))  # fmt: skip
    deliver("kyc.expired", {"customer_id": customer_id, "kyc_id": "k", "level": "none", "previous_level": "basic",
                            "expired_at": now.isoformat()}, occurred_at=now)  # fmt: skip
    deliver("kyc.verified", {"customer_id": customer_id, "kyc_id": "k", "submission_id": "s", "level": "basic",
                             "verified_at": now.isoformat(), "expires_at": now.isoformat()},
            occurred_at=now - timedelta(days=1))  # fmt: skip
    wallet_created(event("wallet.created", {"wallet_id": wallet_id, "customer_id": customer_id, "currency": "PHP",
                                            "status": "active", "tier": "t", "kyc_level": "none", "max_balance": None,
                                            "created_at": now.isoformat()}))  # fmt: skip
    deliver("wallet.suspended", {"wallet_id": wallet_id, "customer_id": customer_id, "currency": "PHP",
                                 "status": "suspended", "previous_status": "active", "reason": "x"})  # fmt: skip

    assert KnownCustomer.objects.get(customer_id=customer_id).kyc_level == "none"
    assert KnownWallet.objects.get(wallet_id=wallet_id).status == "suspended"
