"""Delivery: opt-outs, missing addresses, e-mail through Django's backend, the SMS sandbox's
retries and dead letters, permanent rejections, redelivered events, and the whole path from a
real event in the outbox to a sent e-mail."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from contexts.notifications import api, consumers, services
from contexts.notifications.models import CustomerPreference, Notification, Recipient, SandboxMessage
from contexts.notifications.tasks import send_notification
from finfactory.errors import InvalidInput
from finfactory.outbox.drain import drain
from finfactory.outbox.models import OutboxEvent
from finfactory.outbox.publish import publish

from .conftest import customer_id, event, operation, wallet_id


def _verified(customer: str):
    consumers.kyc_verified(event("kyc.verified", {"customer_id": customer, "level": "full"}))
    return {n.channel: n for n in Notification.objects.filter(customer_id=customer)}


def _events(type: str, notification: Notification) -> list[dict]:
    return list(
        OutboxEvent.objects.filter(type=type, aggregate_id=notification.public_id).values_list("data", flat=True)
    )


def test_an_opt_out_is_respected_and_recorded(notify, mailoutbox):
    customer = customer_id()
    api.recipient_set(customer_id=customer, email="ana@example.org", phone="+639171234567")
    api.preference_set(customer_id=customer, channel="email", category="kyc", opted_out=True)

    sent = _verified(customer)

    assert sent["email"].status == "skipped_opted_out" and sent["email"].body == ""
    assert send_notification(sent["email"].public_id) == "skipped_opted_out"
    assert mailoutbox == []
    assert sent["sms"].status == "pending"  # only the channel opted out of
    assert sent["push"].status == "skipped_no_address"


def test_security_notifications_cannot_be_opted_out_of(notify):
    customer = customer_id()

    with pytest.raises(InvalidInput) as refused:
        api.preference_set(customer_id=customer, channel="sms", category="security", opted_out=True)

    assert refused.value.errors[0].field == "category" and refused.value.errors[0].code == "not_optional"
    assert not CustomerPreference.objects.filter(customer_id=customer).exists()


def test_invalid_contact_data_is_refused_and_nothing_written(notify):
    customer = customer_id()

    with pytest.raises(InvalidInput) as refused:
        api.recipient_set(customer_id=customer, email="ana@example.org", phone="09171234567")

    assert refused.value.errors[0].field == "phone"
    assert not Recipient.objects.filter(customer_id=customer).exists()


def test_a_customer_without_an_address_is_skipped(notify):
    customer = customer_id()

    sent = _verified(customer)

    assert {channel: n.status for channel, n in sent.items()} == {
        "email": "skipped_no_address", "sms": "skipped_no_address", "push": "skipped_no_address",
    }  # fmt: skip


def test_email_goes_through_djangos_backend(notify, mailoutbox):
    customer = customer_id()
    recipient = api.recipient_set(customer_id=customer, email="ana@example.org")
    assert (recipient.has_email, recipient.has_phone) == (True, False)

    email = _verified(customer)["email"]
    assert send_notification(email.public_id) == "sent"

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert (message.to, message.subject) == (["ana@example.org"], "Your identity is verified")
    assert message.body == "Good news: your identity is verified at the full level. Your wallet limits are updated."
    assert message.extra_headers["X-FinFactory-Notification"] == email.public_id
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == ("sent", 1, "")
    assert _events("notification.sent", email) == [
        {"notification_id": email.public_id, "source_event_id": email.event_id, "customer_id": customer,
         "kind": "kyc.verified", "channel": "email", "attempts": 1},
    ]  # fmt: skip
    # Sent once: a second task (the beat's re-queue) sends nothing.
    assert send_notification(email.public_id) == "sent" and len(mailoutbox) == 1


def test_an_unavailable_sms_channel_retries_with_backoff_then_dead_letters(notify):
    customer = customer_id()
    api.recipient_set(customer_id=customer, phone="+639170009999")
    sms = _verified(customer)["sms"]
    now = timezone.now()

    waits = []
    for attempt in range(1, 5):
        assert services.notification_deliver(notification_id=sms.public_id, now=now) == "pending"
        sms.refresh_from_db()
        assert (sms.attempts, sms.last_error) == (attempt, "sms_provider_unavailable")
        waits.append((sms.next_attempt_at - now).total_seconds())
        # Not due yet: nothing is attempted.
        assert services.notification_deliver(notification_id=sms.public_id, now=now + timedelta(seconds=2)) == (
            "not_due"
        )
        now = sms.next_attempt_at
    assert waits == [10.0, 20.0, 40.0, 80.0]

    assert services.notification_deliver(notification_id=sms.public_id, now=now) == "dead"

    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.last_error, sms.next_attempt_at) == (
        "dead", 5, "sms_provider_unavailable", None,
    )  # fmt: skip
    assert _events("notification.dead_lettered", sms) == [
        {"notification_id": sms.public_id, "source_event_id": sms.event_id, "customer_id": customer,
         "kind": "kyc.verified", "channel": "sms", "attempts": 5, "error_code": "sms_provider_unavailable"},
    ]  # fmt: skip
    assert _events("notification.sent", sms) == []
    assert not SandboxMessage.objects.filter(notification_id=sms.public_id).exists()
    assert services.notification_deliver(notification_id=sms.public_id, now=now + timedelta(days=1)) == "dead"


def test_a_permanent_rejection_fails_at_once_without_retry(notify):
    customer = customer_id()
    api.recipient_set(customer_id=customer, phone="+639170000000")
    sms = _verified(customer)["sms"]

    assert services.notification_deliver(notification_id=sms.public_id) == "failed"

    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.last_error, sms.next_attempt_at) == ("failed", 1, "sms_number_invalid", None)
    assert [d["error_code"] for d in _events("notification.failed", sms)] == ["sms_number_invalid"]
    assert _events("notification.dead_lettered", sms) == []
    assert services.notification_deliver(notification_id=sms.public_id) == "failed"
    sms.refresh_from_db()
    assert sms.attempts == 1


def test_the_sms_and_push_sandboxes_record_what_they_sent(notify):
    customer = customer_id()
    api.recipient_set(customer_id=customer, phone="+639171234567", push_token="tok-abc")
    sent = _verified(customer)

    assert send_notification(sent["sms"].public_id) == "sent"
    assert send_notification(sent["push"].public_id) == "sent"

    recorded = {m.channel: (m.to, m.body) for m in SandboxMessage.objects.filter(notification_id__in=[
        sent["sms"].public_id, sent["push"].public_id])}  # fmt: skip
    assert recorded == {
        "sms": ("+639171234567", "FinFactory: your identity is verified (full level)."),
        "push": ("tok-abc", "Identity verified (full level)."),
    }


def test_a_redelivered_event_creates_no_second_notification(notify):
    customer = customer_id()
    api.recipient_set(customer_id=customer, email="ana@example.org")
    verified = event("kyc.verified", {"customer_id": customer, "level": "full"})

    consumers.kyc_verified(verified)
    consumers.kyc_verified(verified)

    assert Notification.objects.filter(event_id=verified.id).count() == 3  # one per channel


def test_a_dead_letter_retried_gets_a_fresh_attempt_budget(notify):
    customer = customer_id()
    api.recipient_set(customer_id=customer, push_token="fail-1")
    push = _verified(customer)["push"]
    Notification.objects.filter(pk=push.pk).update(status="dead", attempts=5, last_error="push_provider_unavailable")
    api.recipient_set(customer_id=customer, push_token="tok-fixed")

    assert api.dead_letters_retry() >= 1
    assert send_notification(push.public_id) == "sent"

    push.refresh_from_db()
    assert (push.status, push.attempts) == ("sent", 1)


def test_from_a_real_event_through_the_outbox_to_a_sent_email(notify, mailoutbox):
    customer, wallet = customer_id(), wallet_id()
    api.recipient_set(customer_id=customer, email="ben@example.org")
    with transaction.atomic():
        publish("wallet.created", wallet, {
            "wallet_id": wallet, "customer_id": customer, "currency": "PHP", "status": "active", "tier": "basic",
            "kyc_level": "none", "max_balance": 10_000_000, "created_at": "2025-01-02T03:04:05Z",
        })  # fmt: skip
        publish("operation.succeeded", "cin_" + "1" * 26, {**operation("cash_in", wallet, 50_000),
                                                            "operation_id": "cin_" + "1" * 26})  # fmt: skip

    delivered = drain()

    assert delivered.dead == 0 and not delivered.errors
    email = Notification.objects.get(customer_id=customer, kind="money_in", channel="email")
    assert send_notification(email.public_id) == "sent"
    assert [(m.to, m.subject) for m in mailoutbox] == [(["ben@example.org"], "You received PHP 500.00")]
    assert mailoutbox[0].body == f"PHP 500.00 was credited to your wallet {wallet} (reference cin_{'1' * 26})."


def test_the_beat_requeues_overdue_pending_notifications_only(notify):
    customer = customer_id()
    api.recipient_set(customer_id=customer, email="ana@example.org", phone="+639171234567")
    sent = _verified(customer)
    Notification.objects.filter(pk=sent["sms"].pk).update(next_attempt_at=timezone.now() - timedelta(hours=1))

    requeued = services.notifications_requeue_due()

    assert requeued == 1  # the overdue SMS; the e-mail was just queued after its commit


def test_the_tenant_is_told_by_email_when_a_webhook_endpoint_is_disabled(notify, mailoutbox):
    from contexts.notifications.consumers import webhook_endpoint_disabled
    from contexts.notifications.services import TENANT_RECIPIENT

    api.recipient_set(customer_id=TENANT_RECIPIENT, email="ops@acme.example")
    data = {
        "endpoint_id": "we_" + "1" * 26,
        "url_host": "hooks.acme.example",
        "events": ["wallet.*"],
        "reason": "17 failed attempts in a row",
        "failure_streak": 17,
        "failing_since": "2026-11-27T10:00:00Z",
    }

    webhook_endpoint_disabled(event("webhook_endpoint.disabled", data, aggregate_id=data["endpoint_id"]))
    notice = Notification.objects.get(kind="webhook_endpoint.disabled", channel="email")
    assert send_notification(notice.public_id) == "sent"

    (message,) = mailoutbox
    assert (message.to, message.subject) == (
        ["ops@acme.example"],
        f"Webhook endpoint {data['endpoint_id']} was disabled",
    )
    assert "hooks.acme.example" in message.body and "17 times" in message.body
    assert (
        not Notification.objects.filter(kind="webhook_endpoint.disabled")
        .exclude(channel="email")
        .exclude(status__startswith="skipped")
        .exists()
    )
