"""Fraud end to end: the read model from the real publishers' events through the outbox drain, a
trained model in the scoring path (active enforced, shadow only logged), and review decisions
becoming the labels the next training reads."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from contexts.fraud import api, review, scoring_model
from contexts.fraud.features import FEATURES
from contexts.fraud.models import Assessment, KnownAccount, KnownCustomer, KnownWallet
from contexts.fraud.synthetic import synthetic_history_generate
from contexts.fraud.training import model_train
from contexts.identity import api as identity_api
from contexts.ledger import api as ledger_api
from contexts.wallets import api as wallets_api
from finfactory.outbox.drain import drain


def test_the_read_model_follows_identity_wallets_and_ledger_through_the_outbox(fraud):
    customer = identity_api.customer_create(first_name="Ana", last_name="Reyes", email="ana@example.org")
    wallets_api.tiers_get()
    wallet = wallets_api.wallet_open(customer_id=customer.id, currency="PHP", kyc_level="none")
    account = ledger_api.account_open(currency="PHP", type="liability", owner_ref=wallet.id)
    float_account = ledger_api.system_account(code="float", currency="PHP")
    ledger_api.transfer(external_ref="cash-in-1", debit_account_id=float_account.id, credit_account_id=account.id,
                        amount=120_000, currency="PHP")  # fmt: skip

    delivered = drain()

    assert delivered.dead == 0 and not delivered.errors
    assert KnownCustomer.objects.get(customer_id=customer.id).created_at is not None
    assert KnownWallet.objects.values_list("customer_id", "status").get(wallet_id=wallet.id) == (customer.id, "active")
    known = KnownAccount.objects.get(account_id=account.id)
    assert (known.owner_ref, known.available, known.credits_count, known.credits_amount) == (wallet.id, 120_000, 1,
                                                                                              120_000)  # fmt: skip

    scored = api.score(reference="cash-out-1", customer_id=customer.id, wallet_id=wallet.id, movement_type="cash_out",
                       amount=90_000, currency="PHP", channel="app")  # fmt: skip

    features = dict(zip(FEATURES, Assessment.objects.get(public_id=scored.id).features, strict=True))
    assert features["balance_drain_ratio"] == 0.75 and features["customer_age_days"] >= 0


def _takeover(customer_id: str, wallet_id: str, reference: str) -> dict:
    """An account-takeover shape: a new phone abroad draining the wallet to a new payee at night."""
    return {
        "reference": reference, "customer_id": customer_id, "wallet_id": wallet_id, "movement_type": "transfer",
        "amount": 4_500_000, "currency": "PHP", "channel": "app", "counterparty": f"wal_new_{reference}",
        "device_id": f"new-phone-{reference}", "ip_country": "NG", "location_country": "PH",
        "occurred_at": timezone.now().replace(hour=3) - timedelta(days=1),
    }  # fmt: skip


def test_the_active_model_scores_and_explains_while_the_shadow_model_is_only_recorded(fraud):
    scoring_model.models_forget()
    synthetic_history_generate(movements=3000, fraud_rate=0.08, seed=5)
    active = model_train(include_synthetic=True, status="active", actor="system:test", seed=1)
    shadow = model_train(include_synthetic=True, status="shadow", actor="system:test", seed=2)
    wallet = KnownWallet.objects.filter(synthetic=True).order_by("id").first()

    risky = api.score(**_takeover(wallet.customer_id, wallet.wallet_id, "ato-1"))
    calm = api.score(reference="calm-1", customer_id=wallet.customer_id, wallet_id=wallet.wallet_id,
                     movement_type="cash_in", amount=50_000, currency="PHP", channel="agent")  # fmt: skip

    assert risky.model_version == active.version and risky.model_score > calm.model_score
    model_reason = next(reason for reason in risky.reasons if reason["type"] == "model")
    assert model_reason["version"] == active.version and model_reason["score"] == risky.model_score
    assert model_reason["top_features"] and {f["feature"] for f in model_reason["top_features"]} <= set(FEATURES)
    assert risky.score == min(1000, risky.rules_score + risky.model_score)
    stored = Assessment.objects.get(public_id=risky.id)
    assert (stored.shadow_version, stored.model_version) == (shadow.version, active.version)
    assert stored.shadow_score is not None and stored.shadow_decision in ("approve", "review", "decline")
    # Only the active model decides: the shadow score appears in no reason and no event.
    assert all(reason.get("version") != shadow.version for reason in risky.reasons)


def test_review_decisions_are_the_labels_the_next_training_reads(fraud, rule, settings):
    settings.FRAUD_TRAIN_MIN_ROWS = 60
    rule("amount_threshold", {"currency": "PHP", "min_amount": 1}, action="review", weight=0)
    operator = get_user_model().objects.create_user(username="reviewer", password=None, is_staff=True)
    held = [
        api.score(reference=f"held-{i}", customer_id=f"cus_{i % 7}", wallet_id=f"wal_{i % 7}", movement_type="transfer",
                  amount=1_000 + i, currency="PHP", channel="app")
        for i in range(60)
    ]  # fmt: skip
    for index, assessment in enumerate(held):
        review.case_decide(case_id=assessment.case_id, decision="decline" if index % 3 == 0 else "approve",
                           reason="reviewed", decided_by=operator)  # fmt: skip

    labels = dict(Assessment.objects.filter(label__isnull=False).values_list("reference", "label"))
    assert len(labels) == 60 and sum(labels.values()) == 20
    assert set(Assessment.objects.filter(label__isnull=False).values_list("label_source", flat=True)) == {"review"}
    trained = model_train(include_synthetic=False, actor="system:test")
    assert trained.training_rows == 60
    assert trained.metrics["positives_train"] + trained.metrics["positives_test"] == 20
