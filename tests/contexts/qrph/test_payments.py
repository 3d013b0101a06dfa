"""QR payments: on-us or off-us, amount rules, single use, expiry, idempotency, transitions."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from contexts.qrph import api, tasks
from contexts.qrph.adapters.base import PaymentRequest
from contexts.qrph.adapters.sandbox import SandboxNetwork, outcome_for
from contexts.qrph.models import QrCode
from finfactory.audit.models import AuditRecord
from finfactory.errors import BusinessRuleViolation, Conflict, InvalidInput

from .conftest import FOREIGN_BIC, events, foreign_code, ref, wallet_id, written
from .test_vectors import VALID


def wrong_crc(payload: str) -> str:
    return payload[:-1] + ("1" if payload[-1] == "0" else "0")


def payer() -> str:
    return wallet_id()


def test_paying_a_static_code_of_the_tenant_is_on_us_to_the_merchants_wallet(merchant):
    profile = merchant()
    code = api.qr_generate(merchant_profile_id=profile.id)
    who = payer()

    payment = api.qr_payment_initiate(payer_wallet_id=who, payload=code.payload, amount=150_00, reference=ref())

    assert (payment.route, payment.status, payment.receiving_wallet_id, payment.qr_code_id) == (
        "on_us", "pending", profile.wallet_id, code.id
    )  # fmt: skip
    assert (payment.amount, payment.currency, payment.code_type, payment.merchant_id, payment.network_reference) == (
        15000, "PHP", "static", profile.merchant_id, None
    )  # fmt: skip
    assert events("qr.payment") == [
        ("qr.payment.received", payment.id, {"payment_id": payment.id, "route": "on_us", "payer_wallet_id": who,
                                             "receiving_wallet_id": profile.wallet_id, "qr_code_id": code.id,
                                             "amount": 15000, "currency": "PHP", "status": "pending"}),
    ]  # fmt: skip
    assert AuditRecord.objects.filter(action="qr_payment.received", target_id=payment.id).count() == 1


def test_orchestration_confirms_an_on_us_payment_once(merchant):
    code = api.qr_generate(merchant_profile_id=merchant().id, amount=75_50)
    payment = api.qr_payment_initiate(payer_wallet_id=payer(), payload=code.payload, reference=ref())

    confirmed = api.qr_payment_confirm(payment_id=payment.id, settlement_reference="txn_123")
    again = api.qr_payment_confirm(payment_id=payment.id, settlement_reference="txn_123")
    before = written()
    with pytest.raises(Conflict) as refused:
        api.qr_payment_fail(payment_id=payment.id, reason="insufficient_funds")

    assert (confirmed.status, confirmed.settlement_reference, confirmed.replayed, again.replayed) == (
        "confirmed", "txn_123", False, True
    )  # fmt: skip
    assert confirmed.decided_at is not None and api.qr_payment_status(payment_id=payment.id).status == "confirmed"
    assert refused.value.code == "invalid_transition"
    assert written() == before
    assert [t for t, _, _ in events("qr.payment")] == ["qr.payment.received", "qr.payment.confirmed"]
    assert events("qr.payment.confirmed")[0][2] == {
        "payment_id": payment.id, "route": "on_us", "payer_wallet_id": payment.payer_wallet_id,
        "receiving_wallet_id": payment.receiving_wallet_id, "qr_code_id": code.id, "amount": 7550, "currency": "PHP",
        "status": "confirmed", "network_reference": "", "settlement_reference": "txn_123",
    }  # fmt: skip


def test_a_dynamic_code_pays_once_and_a_failed_payment_frees_it(merchant):
    code = api.qr_generate(merchant_profile_id=merchant().id, amount=500_00)
    first = api.qr_payment_initiate(payer_wallet_id=payer(), payload=code.payload, reference=ref())
    before = written()

    with pytest.raises(BusinessRuleViolation) as refused:
        api.qr_payment_initiate(payer_wallet_id=payer(), payload=code.payload, reference=ref())
    assert (refused.value.code, refused.value.extra) == ("qr_already_paid", {"payment_id": first.id})
    assert written() == before

    failed = api.qr_payment_fail(payment_id=first.id, reason="insufficient_funds")
    retried = api.qr_payment_initiate(payer_wallet_id=payer(), payload=code.payload, reference=ref())

    assert (failed.status, failed.failure_reason) == ("failed", "insufficient_funds")
    assert (retried.status, retried.amount) == ("pending", 50000)
    assert events("qr.payment.failed")[0][2]["reason"] == "insufficient_funds"


def test_a_dynamic_codes_amount_is_fixed_and_a_static_code_needs_one(merchant):
    profile = merchant()
    dynamic = api.qr_generate(merchant_profile_id=profile.id, amount=120_00)
    static = api.qr_generate(merchant_profile_id=profile.id)
    before = written()

    with pytest.raises(BusinessRuleViolation) as mismatch:
        api.qr_payment_initiate(payer_wallet_id=payer(), payload=dynamic.payload, amount=100_00, reference=ref())
    with pytest.raises(InvalidInput) as missing:
        api.qr_payment_initiate(payer_wallet_id=payer(), payload=static.payload, reference=ref())
    same = api.qr_payment_initiate(payer_wallet_id=payer(), payload=dynamic.payload, amount=120_00, reference=ref())

    assert (mismatch.value.code, [(e.field, e.code) for e in mismatch.value.errors]) == (
        "amount_mismatch", [("amount", "amount_mismatch")]
    )  # fmt: skip
    assert [(e.field, e.code) for e in missing.value.errors] == [("amount", "amount_required")]
    assert same.amount == 12000
    assert written()["payments"][:-1] == before["payments"]


def test_an_expired_dynamic_code_is_refused(merchant):
    code = api.qr_generate(
        merchant_profile_id=merchant().id, amount=10_00, expires_at=timezone.now() + timedelta(seconds=30)
    )
    QrCode.objects.filter(public_id=code.id).update(expires_at=timezone.now() - timedelta(seconds=1))
    before = written()

    with pytest.raises(BusinessRuleViolation) as refused:
        api.qr_payment_initiate(payer_wallet_id=payer(), payload=code.payload, reference=ref())

    assert (refused.value.code, refused.value.errors[0].field) == ("qr_expired", "payload")
    assert written() == before


def test_the_same_reference_returns_the_first_payment_and_a_different_request_conflicts(merchant):
    code = api.qr_generate(merchant_profile_id=merchant().id)
    who, reference = payer(), ref()
    first = api.qr_payment_initiate(payer_wallet_id=who, payload=code.payload, amount=10_00, reference=reference)
    api.qr_payment_confirm(payment_id=first.id, settlement_reference="txn_1")
    before = written()

    replay = api.qr_payment_initiate(payer_wallet_id=who, payload=code.payload, amount=10_00, reference=reference)
    with pytest.raises(Conflict) as refused:
        api.qr_payment_initiate(payer_wallet_id=who, payload=code.payload, amount=11_00, reference=reference)

    assert (replay.id, replay.status, replay.replayed) == (first.id, "confirmed", True)
    assert (refused.value.code, refused.value.errors[0].field) == ("reference_reused", "reference")
    assert written() == before


def test_a_wallet_cannot_pay_its_own_code(merchant):
    profile = merchant()
    code = api.qr_generate(merchant_profile_id=profile.id)
    before = written()

    with pytest.raises(BusinessRuleViolation) as refused:
        api.qr_payment_initiate(payer_wallet_id=profile.wallet_id, payload=code.payload, amount=100, reference=ref())

    assert (refused.value.code, refused.value.errors[0].field) == ("same_wallet", "payer_wallet_id")
    assert written() == before


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        pytest.param(next(r.values[1] for r in VALID if r.id == "EM01"), ("tag_02-51", "not_qrph"), id="unionpay"),
        pytest.param("00020101021", ("tag_01", "bad_length"), id="truncated"),
        pytest.param(wrong_crc(foreign_code(amount=100)), ("tag_63", "bad_crc"), id="bad-crc"),
        pytest.param(12345, ("payload", "bad_format"), id="not-text"),
    ],
)
def test_a_code_that_cannot_be_paid_is_refused_naming_the_tag_and_nothing_is_written(qrph, payload, expected):
    before = written()

    with pytest.raises(api.InvalidQr) as refused:
        api.qr_payment_initiate(payer_wallet_id=payer(), payload=payload, amount=100, reference=ref())

    assert (refused.value.code, refused.value.status) == ("invalid_qr", 422)
    assert [(e.field, e.code) for e in refused.value.errors] == [expected]
    assert written() == before


def test_a_code_with_the_tenants_bic_but_an_unknown_merchant_is_refused(merchant):
    bic = api.qrph_settings_get().bic
    from contexts.qrph.codec import qrph_payload_build

    payload = qrph_payload_build(scheme="p2p", bic=bic, merchant_id="999", mcc="6016", merchant_name="Nobody",
                                 merchant_city="Manila")  # fmt: skip
    before = written()

    with pytest.raises(api.InvalidQr) as refused:
        api.qr_payment_initiate(payer_wallet_id=payer(), payload=payload, amount=100, reference=ref())

    assert [(e.field, e.code) for e in refused.value.errors] == [("tag_27.04", "unknown_merchant")]
    assert written() == before


def test_another_institutions_code_goes_off_us_and_on_us_decisions_refuse_it(qrph):
    payment = api.qr_payment_initiate(payer_wallet_id=payer(), payload=foreign_code(), amount=12_34, reference=ref())

    assert (payment.route, payment.status, payment.receiving_wallet_id, payment.qr_code_id) == (
        "off_us", "pending", None, None
    )  # fmt: skip
    assert (payment.acquirer_bic, payment.merchant_id) == (FOREIGN_BIC, "217020000054698716099")
    with pytest.raises(Conflict) as refused:
        api.qr_payment_confirm(payment_id=payment.id, settlement_reference="txn_x")
    assert refused.value.code == "route_mismatch"


def test_a_real_qr_ph_sample_from_another_bank_is_payable_off_us(qrph):
    sample = next(row.values[1] for row in VALID if row.id == "PH24")  # dynamic, PHP 100.00

    payment = api.qr_payment_initiate(payer_wallet_id=payer(), payload=sample, reference=ref())

    assert (payment.route, payment.amount, payment.code_type, payment.acquirer_bic) == (
        "off_us", 10000, "dynamic", "PAPHPHM1XXX"
    )  # fmt: skip


@pytest.mark.parametrize(
    ("amount", "expected"),
    [(100_13, ("failed", "network_declined")), (7_14, ("failed", "receiving_account_invalid")),
     (100_00, ("confirmed", "")), (1, ("confirmed", "")), (99_12, ("confirmed", ""))],
)  # fmt: skip
def test_the_sandbox_network_is_steered_by_the_centavos(amount, expected):
    assert outcome_for(amount) == expected


def test_the_sandbox_answers_only_after_its_delay(settings, qrph):
    settings.QRPH_SANDBOX_SETTLE_SECONDS = 0.3
    request = PaymentRequest(payment_id="qrp_x", amount=5_13, currency="PHP", acquirer_bic=FOREIGN_BIC,
                             merchant_id="1", payload="")  # fmt: skip

    submitted = SandboxNetwork().submit(request)
    early = SandboxNetwork().fetch_status(submitted.network_reference)
    time.sleep(0.35)
    late = SandboxNetwork().fetch_status(submitted.network_reference)

    assert (submitted.result, early) == (None, None)
    assert (late.payment_id, late.outcome, late.reason) == ("qrp_x", "failed", "network_declined")


def test_the_reconcile_beat_submits_and_decides_off_us_payments_whose_tasks_were_lost(settings, qrph):
    settings.QRPH_SANDBOX_SETTLE_SECONDS = 0
    settings.QRPH_RECONCILE_AFTER_SECONDS = 0
    good = api.qr_payment_initiate(payer_wallet_id=payer(), payload=foreign_code(), amount=250_00, reference=ref())
    bad = api.qr_payment_initiate(payer_wallet_id=payer(), payload=foreign_code(), amount=250_13, reference=ref())

    resubmitted = tasks.reconcile_pending()  # nothing was submitted: the tasks are queued on commit only
    tasks.submit_payment(good.id)
    tasks.submit_payment(bad.id)
    polled = tasks.reconcile_pending()
    again = tasks.reconcile_pending()

    assert resubmitted == {"resubmitted": 2, "polled": 0, "decided": 0, "unavailable": 0}
    assert polled == {"resubmitted": 0, "polled": 2, "decided": 2, "unavailable": 0}
    assert again == {"resubmitted": 0, "polled": 0, "decided": 0, "unavailable": 0}
    confirmed, failed = api.qr_payment_status(payment_id=good.id), api.qr_payment_status(payment_id=bad.id)
    assert (confirmed.status, confirmed.network_reference.startswith(f"sandbox:{good.id}:confirmed")) == (
        "confirmed", True
    )  # fmt: skip
    assert (failed.status, failed.failure_reason) == ("failed", "network_declined")
    assert sorted((t, aggregate) for t, aggregate, _ in events("qr.payment")) == sorted([
        ("qr.payment.received", good.id), ("qr.payment.received", bad.id), ("qr.payment.confirmed", good.id),
        ("qr.payment.failed", bad.id),
    ])  # fmt: skip
