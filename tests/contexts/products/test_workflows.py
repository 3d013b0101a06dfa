"""The stored-value wallet's workflows end to end through the primitives: what moves, what is
reserved, what is undone, and what a refusal leaves (nothing)."""

import pytest

from contexts.fraud import review as fraud_review
from contexts.ledger.verify import ledger_verify
from contexts.products import api
from contexts.products.adapters.base import FAILED, SUCCEEDED, PayoutResult
from contexts.products.configuration import product_config_override
from contexts.products.models import Operation, Payout
from contexts.products.payouts import payout_result_record
from contexts.qrph.adapters.base import CONFIRMED, NetworkResult
from contexts.qrph.codec import qrph_payload_build
from contexts.qrph.payments import qr_payment_network_result
from finfactory.errors import BusinessRuleViolation, Conflict, PlatformError
from finfactory.outbox.drain import drain
from finfactory.outbox.models import OutboxEvent
from finfactory.tenantconfig import config_set

from .conftest import balance, ref, run, system_balance, usage, writes


def refused(code: str, call, *args, **kwargs) -> PlatformError:
    before = writes()
    with pytest.raises(PlatformError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, (caught.value.code, caught.value.detail)
    assert writes() == before
    return caught.value


def assert_books_clean() -> None:
    report = ledger_verify()
    assert report.ok, report.problems
    assert all(total == 0 for total in report.trial_balance.values())


# --- cash-in --------------------------------------------------------------------------------------


def test_a_cash_in_credits_the_wallet_from_the_float_and_counts_against_the_limits(wallet):
    opened = wallet()
    float_before = system_balance("float")

    done = api.cash_in(wallet_id=opened.id, amount=150_000, currency="PHP", reference=ref())

    assert (done.status, done.stage, done.kind, done.amount, done.fee) == ("succeeded", "succeeded", "cash_in",
                                                                           150_000, 0)  # fmt: skip
    assert done.transaction_id and done.assessment_id and done.risk_decision == "approve"
    assert balance(opened.id) == (150_000, 0, 150_000)
    assert system_balance("float") == float_before + 150_000  # the float (an asset) grew with the liability
    assert usage(opened.id, "cash_in") == (150_000, 1)
    event = OutboxEvent.objects.filter(type="operation.succeeded", aggregate_id=done.id).get()
    assert (event.data["transaction_id"], event.data["amount"]) == (done.transaction_id, 150_000)
    assert_books_clean()


def test_a_replayed_reference_returns_the_operation_and_moves_nothing_twice(wallet):
    opened = wallet()
    reference = ref()
    first = api.cash_in(wallet_id=opened.id, amount=5_000, currency="PHP", reference=reference)
    before = writes()

    again = api.cash_in(wallet_id=opened.id, amount=5_000, currency="PHP", reference=reference)

    assert (again.id, again.replayed, again.transaction_id) == (first.id, True, first.transaction_id)
    assert writes() == before and balance(opened.id)[0] == 5_000
    with pytest.raises(Conflict) as reused:
        api.cash_in(wallet_id=opened.id, amount=6_000, currency="PHP", reference=reference)
    assert reused.value.code == "reference_reused"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"amount": 0}, "validation_error"),
        ({"currency": "USD"}, "currency_not_supported"),
        ({"amount": 5_000_001}, "limit_exceeded"),  # above the basic tier's single cash-in maximum
        ({"wallet_id": "wal_00000000000000000000000000"}, "not_found"),
        ({"reference": ""}, "validation_error"),
    ],
)
def test_a_refused_cash_in_writes_nothing(wallet, kwargs, code):
    opened = wallet()

    refused(code, api.cash_in, **{"wallet_id": opened.id, "amount": 1_000, "currency": "PHP", "reference": ref(),
                                  **kwargs})  # fmt: skip


def test_a_suspended_wallet_neither_sends_nor_receives(wallet, product):
    from contexts.wallets import api as wallets_api

    payer, payee = wallet(10_000), wallet()
    wallets_api.wallet_suspend(wallet_id=payee.id, reason="investigation")

    refused("wallet_not_active", api.cash_in, wallet_id=payee.id, amount=1_000, currency="PHP", reference=ref())
    refused("wallet_not_active", api.transfer, source_wallet_id=payer.id, destination_wallet_id=payee.id,
            amount=1_000, currency="PHP", reference=ref())  # fmt: skip


def test_the_kill_switch_of_the_tenant_configuration_stops_a_flow(wallet, product):
    opened = wallet()
    config_set(key="products.cash_in_enabled", value=False, reason="incident", scope="tenant")

    refused("feature_not_available", api.cash_in, wallet_id=opened.id, amount=1_000, currency="PHP",
            reference=ref())  # fmt: skip


# --- transfer ------------------------------------------------------------------------------------


def test_a_transfer_moves_the_amount_and_charges_the_fee_in_one_entry(wallet, product):
    product_config_override(overrides={"fees": {"transfer": {"PHP": {"flat": 1_000, "percent_bps": 50}}}},
                            reason="test fee")  # fmt: skip
    payer, payee = wallet(100_000), wallet()
    fees_before = system_balance("fees")

    done = api.transfer(source_wallet_id=payer.id, destination_wallet_id=payee.id, amount=40_000, currency="PHP",
                        reference=ref(), description="rent share")  # fmt: skip

    assert (done.status, done.fee) == ("succeeded", 1_200)  # 10.00 flat + 0.50 % of 400.00
    assert balance(payer.id) == (100_000 - 41_200, 0, 100_000 - 41_200)
    assert balance(payee.id) == (40_000, 0, 40_000)
    assert system_balance("fees") == fees_before + 1_200
    assert usage(payer.id, "transfer_out") == (40_000, 1)
    assert_books_clean()


def test_transfer_refusals_name_their_code_and_write_nothing(wallet):
    payer, payee = wallet(10_000), wallet()

    refused("same_wallet", api.transfer, source_wallet_id=payer.id, destination_wallet_id=payer.id, amount=1,
            currency="PHP", reference=ref())  # fmt: skip
    refused("currency_not_supported", api.transfer, source_wallet_id=payer.id, destination_wallet_id=payee.id,
            amount=1, currency="EUR", reference=ref())  # fmt: skip


def test_insufficient_funds_fails_the_transfer_and_gives_the_limit_usage_back(wallet):
    payer, payee = wallet(10_000), wallet()
    entries_before = writes()["entries"]

    with pytest.raises(BusinessRuleViolation) as caught:
        api.transfer(source_wallet_id=payer.id, destination_wallet_id=payee.id, amount=20_000, currency="PHP",
                     reference=ref())  # fmt: skip

    assert caught.value.code == "insufficient_funds"
    failed = Operation.objects.get(public_id=caught.value.extra["operation_id"])
    assert (failed.status, failed.failure_code, failed.compensated) == ("failed", "insufficient_funds", True)
    assert writes()["entries"] == entries_before
    assert balance(payer.id) == (10_000, 0, 10_000) and usage(payer.id, "transfer_out") == (0, 0)
    assert OutboxEvent.objects.filter(type="operation.failed", aggregate_id=failed.public_id).exists()


# --- fraud ------------------------------------------------------------------------------------------


def test_a_fraud_decline_is_risk_declined_with_no_money_moved_and_limits_given_back(wallet, fraud_rule):
    payer, payee = wallet(100_000), wallet()
    fraud_rule("decline", 50_000)
    entries_before = writes()["entries"]

    with pytest.raises(BusinessRuleViolation) as caught:
        api.transfer(source_wallet_id=payer.id, destination_wallet_id=payee.id, amount=60_000, currency="PHP",
                     reference=ref())  # fmt: skip

    assert caught.value.code == "risk_declined"
    assert writes()["entries"] == entries_before
    assert balance(payer.id) == (100_000, 0, 100_000) and usage(payer.id, "transfer_out") == (0, 0)


def test_a_fraud_review_holds_the_funds_until_the_reviewer_approves(wallet, fraud_rule, product):
    from django.contrib.auth import get_user_model

    payer, payee = wallet(100_000), wallet()
    fraud_rule("review", 50_000)

    pending = api.transfer(source_wallet_id=payer.id, destination_wallet_id=payee.id, amount=60_000, currency="PHP",
                           reference=ref())  # fmt: skip

    assert (pending.status, pending.stage, pending.transaction_id) == ("pending", "pending_review", None)
    assert balance(payer.id) == (100_000, 60_000, 40_000)
    reviewer = get_user_model().objects.create_user(username="reviewer", password=None, is_staff=True)
    from contexts.fraud import api as fraud_api

    case_id = fraud_api.assessment_get(assessment_id=pending.assessment_id).case_id
    fraud_review.case_decide(case_id=case_id, decision="approve", reason="known payee", decided_by=reviewer)
    drain()  # risk.approved (source review) reaches orchestration

    done = run(pending.id)

    assert (done.status, done.entry_id != "") == ("succeeded", True)
    assert balance(payer.id) == (40_000, 0, 40_000) and balance(payee.id) == (60_000, 0, 60_000)
    assert_books_clean()


def test_a_declined_review_releases_the_funds_and_the_limits(wallet, fraud_rule, product):
    from django.contrib.auth import get_user_model

    from contexts.fraud import api as fraud_api

    opened = wallet(100_000)
    fraud_rule("review", 50_000)
    pending = api.cash_out(wallet_id=opened.id, amount=60_000, currency="PHP", reference=ref())
    assert balance(opened.id) == (100_000, 60_000 + pending.fee, 40_000 - pending.fee)
    reviewer = get_user_model().objects.create_user(username="reviewer", password=None, is_staff=True)
    case_id = fraud_api.assessment_get(assessment_id=pending.assessment_id).case_id
    fraud_review.case_decide(case_id=case_id, decision="decline", reason="mule", decided_by=reviewer)
    drain()

    done = run(pending.id)

    assert (done.status, done.failure_code, done.compensated) == ("failed", "risk_declined", True)
    assert balance(opened.id) == (100_000, 0, 100_000) and usage(opened.id, "cash_out") == (0, 0)


# --- cash-out --------------------------------------------------------------------------------------


def test_a_cash_out_holds_pays_out_and_captures_with_its_fee(wallet):
    opened = wallet(100_000)
    in_transit = system_balance("payouts_in_transit")

    pending = api.cash_out(wallet_id=opened.id, amount=30_000, currency="PHP", reference=ref(),
                           destination={"bank": "BPI", "account": "1234567890"})  # fmt: skip

    assert (pending.status, pending.stage, pending.fee) == ("pending", "submitted", 1_500)
    assert balance(opened.id) == (100_000, 31_500, 68_500)
    payout = Payout.objects.get(public_id=pending.payout_id)
    assert (payout.amount, payout.destination["bank"], payout.status) == (30_000, "BPI", "submitted")

    payout_result_record(result=PayoutResult(payout.public_id, SUCCEEDED, "sandbox:x"))
    done = run(pending.id)

    assert (done.status, done.fee_entry_id != "") == ("succeeded", True)
    assert balance(opened.id) == (68_500, 0, 68_500)
    assert system_balance("payouts_in_transit") == in_transit + 30_000
    assert usage(opened.id, "cash_out") == (30_000, 1)
    assert_books_clean()


def test_a_failed_payout_releases_the_hold_and_gives_the_limits_back(wallet):
    opened = wallet(100_000)
    pending = api.cash_out(wallet_id=opened.id, amount=30_013, currency="PHP", reference=ref())

    payout_result_record(result=PayoutResult(pending.payout_id, FAILED, "sandbox:x", "destination_declined"))
    done = run(pending.id)

    assert (done.status, done.failure_code, done.compensated) == ("failed", "payout_failed", True)
    assert balance(opened.id) == (100_000, 0, 100_000) and usage(opened.id, "cash_out") == (0, 0)
    assert_books_clean()


def test_a_cash_out_needs_the_templates_kyc_level(wallet):
    unverified = wallet(10_000, level="none")

    refused("kyc_required", api.cash_out, wallet_id=unverified.id, amount=1_000, currency="PHP", reference=ref())


# --- QR payments -------------------------------------------------------------------------------------


def test_an_on_us_qr_payment_settles_at_once_into_the_merchants_wallet(wallet, merchant):
    payer = wallet(50_000)
    shop, payload = merchant()

    done = api.qr_payment(wallet_id=payer.id, payload=payload, amount=12_000, reference=ref())

    assert (done.status, done.qr_route, done.counterparty_wallet_id) == ("succeeded", "on_us", shop.id)
    assert balance(payer.id)[0] == 38_000 and balance(shop.id)[0] == 12_000
    from contexts.qrph import api as qrph_api

    assert qrph_api.qr_payment_status(payment_id=done.qr_payment_id).status == "confirmed"
    assert_books_clean()


def test_an_off_us_qr_payment_holds_until_the_network_confirms(wallet, product):
    payer = wallet(50_000)
    payload = qrph_payload_build(scheme="p2m", bic="GXCHPHM2XXX", merchant_id="217020000054698716099", mcc="5814",
                                 merchant_name="Other Bank Cafe", merchant_city="Taguig")  # fmt: skip
    settlement = system_balance("settlement")

    pending = api.qr_payment(wallet_id=payer.id, payload=payload, amount=8_000, reference=ref())

    assert (pending.status, pending.qr_route) == ("pending", "off_us")
    assert balance(payer.id) == (50_000, 8_000, 42_000)
    qr_payment_network_result(result=NetworkResult(pending.qr_payment_id, CONFIRMED, "net-1"))
    drain()  # qr.payment.confirmed reaches orchestration
    done = run(pending.id)

    assert done.status == "succeeded"
    # Settlement is our money at the clearing bank (an asset): paying another institution lowers it.
    assert balance(payer.id) == (42_000, 0, 42_000) and system_balance("settlement") == settlement - 8_000
    assert_books_clean()


def test_a_bad_qr_payload_is_invalid_qr_and_writes_nothing(wallet):
    payer = wallet(1_000)

    refused("invalid_qr", api.qr_payment, wallet_id=payer.id, payload="000201NOTAQR", amount=100, reference=ref())


# --- wallet close ------------------------------------------------------------------------------------


def test_a_wallet_closes_only_when_its_ledger_account_is_empty(wallet, product):
    from contexts.ledger import api as ledger_api
    from contexts.products.workflows import wallet_account

    funded, empty = wallet(1_000), wallet()

    refused("balance_not_zero", api.wallet_close, wallet_id=funded.id, reason="customer asked", reference=ref())
    closed = api.wallet_close(wallet_id=empty.id, reason="customer asked", reference=ref())

    assert closed.status == "succeeded"
    assert api.wallet_get(wallet_id=empty.id).status == "closed"
    assert ledger_api.account_get(account_id=wallet_account(empty.id)).status == "closed"
    refused("wallet_not_active", api.cash_in, wallet_id=empty.id, amount=1, currency="PHP", reference=ref())
