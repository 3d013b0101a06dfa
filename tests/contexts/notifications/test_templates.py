"""Default templates render exact text for each event; a tenant's template wins; a broken
template is a dead letter, never a crash of the handler."""

from contexts.notifications import api, consumers
from contexts.notifications.models import Notification, NotificationTemplate
from finfactory.outbox.models import OutboxEvent

from .conftest import customer_id, event, operation, wallet_id


def _texts(customer: str, kind: str) -> dict:
    rows = Notification.objects.filter(customer_id=customer, kind=kind)
    return {n.channel: (n.status, n.subject, n.body) for n in rows}


def _everywhere(customer: str) -> None:
    api.recipient_set(customer_id=customer, email="ana@example.org", phone="+639171234567", push_token="tok-1")


def _owned_wallet(customer: str) -> str:
    wallet = wallet_id()
    consumers.wallet_created(event("wallet.created", {"wallet_id": wallet, "customer_id": customer}))
    return wallet


def test_kyc_verified_renders_every_channel(notify):
    customer = customer_id()
    _everywhere(customer)

    consumers.kyc_verified(event("kyc.verified", {"customer_id": customer, "level": "full"}))

    assert _texts(customer, "kyc.verified") == {
        "email": ("pending", "Your identity is verified",
                  "Good news: your identity is verified at the full level. Your wallet limits are updated."),
        "sms": ("pending", "", "FinFactory: your identity is verified (full level)."),
        "push": ("pending", "", "Identity verified (full level)."),
    }  # fmt: skip


def test_kyc_rejected_renders_reason_and_resubmissions(notify):
    customer = customer_id()
    _everywhere(customer)

    consumers.kyc_rejected(
        event("kyc.rejected", {"customer_id": customer, "reason": "document_blurry", "resubmissions_left": 2})
    )

    texts = _texts(customer, "kyc.rejected")
    assert texts["email"] == (
        "pending", "We could not verify your identity",
        "We could not verify your identity (reason: document_blurry). You may submit again 2 more times.",
    )  # fmt: skip
    assert texts["sms"][2] == "FinFactory: identity verification failed (document_blurry). Resubmissions left: 2."


def test_cash_in_is_money_in_with_the_amount_formatted(notify):
    customer = customer_id()
    _everywhere(customer)
    wallet = _owned_wallet(customer)

    consumers.operation_succeeded(event("operation.succeeded", operation("cash_in", wallet, 150_050)))

    texts = _texts(customer, "money_in")
    assert texts["email"] == (
        "pending", "You received PHP 1500.50",
        f"PHP 1500.50 was credited to your wallet {wallet} (reference cin_{'0' * 26}).",
    )  # fmt: skip
    assert texts["push"][2] == "You received PHP 1500.50."
    assert not Notification.objects.filter(customer_id=customer, kind="money_out").exists()


def test_money_out_from_the_threshold_only(notify):
    customer = customer_id()
    _everywhere(customer)
    wallet = _owned_wallet(customer)

    consumers.operation_succeeded(event("operation.succeeded", operation("cash_out", wallet, 99_999)))
    assert not Notification.objects.filter(customer_id=customer).exists()

    consumers.operation_succeeded(event("operation.succeeded", operation("cash_out", wallet, 100_000)))
    texts = _texts(customer, "money_out")
    assert texts["email"] == (
        "pending", "PHP 1000.00 left your wallet",
        f"PHP 1000.00 was debited from your wallet {wallet} (reference cout_{'0' * 26}). "
        "If this was not you, contact support now.",
    )  # fmt: skip
    assert texts["sms"][2] == (
        f"FinFactory: PHP 1000.00 was debited from wallet {wallet}. Ref cout_{'0' * 26}. Not you? Call support."
    )


def test_a_transfer_is_money_out_for_the_payer_and_money_in_for_the_payee(notify):
    payer, payee = customer_id(), customer_id()
    _everywhere(payer), _everywhere(payee)
    payer_wallet, payee_wallet = _owned_wallet(payer), _owned_wallet(payee)

    consumers.operation_succeeded(
        event("operation.succeeded", operation("transfer", payer_wallet, 250_000, counterparty=payee_wallet))
    )

    assert set(Notification.objects.filter(customer_id=payer).values_list("kind", flat=True)) == {"money_out"}
    assert set(Notification.objects.filter(customer_id=payee).values_list("kind", flat=True)) == {"money_in"}
    assert _texts(payee, "money_in")["push"][2] == "You received PHP 2500.00."


def test_a_qr_payment_is_money_in_for_the_merchant(notify):
    payer, merchant = customer_id(), customer_id()
    _everywhere(merchant)
    payer_wallet, merchant_wallet = _owned_wallet(payer), _owned_wallet(merchant)

    consumers.operation_succeeded(
        event("operation.succeeded", operation("qr_payment", payer_wallet, 12_345, counterparty=merchant_wallet))
    )

    assert _texts(merchant, "money_in")["sms"][2] == (
        f"FinFactory: you received PHP 123.45 in wallet {merchant_wallet}. Ref qrp_{'0' * 26}."
    )
    assert not Notification.objects.filter(customer_id=payer).exists()  # 123.45 is below the threshold


def test_wallet_suspended_renders_the_reason(notify):
    customer = customer_id()
    _everywhere(customer)
    wallet = wallet_id()

    consumers.wallet_suspended(
        event("wallet.suspended", {"wallet_id": wallet, "customer_id": customer, "currency": "PHP",
                                   "status": "suspended", "previous_status": "active", "reason": "fraud_review"})
    )  # fmt: skip

    assert _texts(customer, "wallet.suspended")["email"] == (
        "pending", "Your wallet is suspended",
        f"Your wallet {wallet} is suspended (reason: fraud_review): it can neither send nor receive until it is "
        "reactivated. Contact support if you did not expect this.",
    )  # fmt: skip


def test_the_tenants_template_wins_over_the_default(notify):
    customer = customer_id()
    _everywhere(customer)
    NotificationTemplate.objects.create(
        event_type="kyc.verified", channel="email", subject="Verified, {{ level }}!", body="Hi {{ customer_id }}."
    )
    NotificationTemplate.objects.create(event_type="kyc.verified", channel="push", body="x", enabled=False)

    consumers.kyc_verified(event("kyc.verified", {"customer_id": customer, "level": "basic"}))

    texts = _texts(customer, "kyc.verified")
    assert texts["email"] == ("pending", "Verified, basic!", f"Hi {customer}.")
    assert texts["sms"] == ("pending", "", "FinFactory: your identity is verified (basic level).")
    assert texts["push"] == ("skipped_disabled", "", "")
    assert Notification.objects.get(customer_id=customer, channel="email").template_source == "tenant"


def test_a_template_that_fails_to_render_is_a_dead_letter_not_a_crash(notify):
    customer = customer_id()
    _everywhere(customer)
    NotificationTemplate.objects.create(event_type="kyc.verified", channel="sms", body="{% if %}broken")

    consumers.kyc_verified(event("kyc.verified", {"customer_id": customer, "level": "basic"}))

    sms = Notification.objects.get(customer_id=customer, channel="sms")
    assert (sms.status, sms.body) == ("dead", "")
    assert sms.last_error.startswith("render_error: TemplateSyntaxError")
    dead = OutboxEvent.objects.get(type="notification.dead_lettered", aggregate_id=sms.public_id)
    assert dead.data["error_code"] == "render_error" and dead.data["channel"] == "sms"
    assert Notification.objects.get(customer_id=customer, channel="email").status == "pending"

    # Fixed by the tenant, then retried from the admin or the api: rendered with the new template.
    NotificationTemplate.objects.filter(channel="sms").update(body="Verified ({{ level }}).")
    assert api.dead_letters_retry(notification_ids=[sms.public_id]) == 1
    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.body) == ("pending", 0, "Verified (basic).")
