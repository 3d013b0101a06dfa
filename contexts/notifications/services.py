"""Write side of notifications: recipients, preferences, the wallet-owner read model, creating
notifications from events and delivering them.

Delivery (`notification_deliver`) holds the notification's row lock (SKIP LOCKED) while it calls
the channel, so the send task and the beat's re-queue never send one notification twice
concurrently. A process killed after the provider accepted a message but before the commit sends
it again on the retry: delivery is at least once, as every notification provider's is.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from finfactory.events.subscribers import Event
from finfactory.money import format_minor
from finfactory.outbox.publish import publish
from finfactory.tenancy.tasks import tenant_task_send

from . import validation
from .adapters import channel_adapter
from .adapters.base import ChannelRejected, ChannelUnavailable, OutgoingMessage
from .models import (
    Category,
    Channel,
    CustomerPreference,
    Kind,
    Notification,
    Recipient,
    Status,
    WalletOwner,
)
from .rendering import RenderError, render, template_for

logger = structlog.get_logger(__name__)

SEND_TASK = "contexts.notifications.tasks.send_notification"

CATEGORY_OF = {
    Kind.KYC_VERIFIED: Category.KYC,
    Kind.KYC_REJECTED: Category.KYC,
    Kind.MONEY_IN: Category.MONEY,
    Kind.MONEY_OUT: Category.MONEY,
    Kind.WALLET_SUSPENDED: Category.SECURITY,
    Kind.WEBHOOK_ENDPOINT_DISABLED: Category.SECURITY,
}
# The tenant's own operations contact: `recipient_set(customer_id=TENANT_RECIPIENT, email=…)`.
TENANT_RECIPIENT = "tenant"
# Security notices reach the customer whatever their preferences (a suspended wallet, later a
# new device or a password change): opting out of them is refused.
NON_OPTIONAL = frozenset({Category.SECURITY})
_ADDRESS_FIELD = {Channel.EMAIL: "email", Channel.SMS: "phone", Channel.PUSH: "push_token"}


# --- Recipients, preferences, wallet owners ------------------------------------------------------


def recipient_set(
    *, customer_id: str, email: str | None = None, phone: str | None = None, push_token: str | None = None,
    locale: str = "en",
) -> Recipient:  # fmt: skip
    """Create or replace how the customer is reached (None: no address on that channel)."""
    values = {
        "email": validation.email_checked(email),
        "phone": validation.phone_checked(phone),
        "push_token": validation.push_token_checked(push_token),
        "locale": validation.locale_checked(locale),
    }
    recipient, _ = Recipient.objects.update_or_create(
        customer_id=validation.customer_id_checked(customer_id), defaults=values
    )
    return recipient


def preference_set(*, customer_id: str, channel: str, category: str, opted_out: bool) -> CustomerPreference:
    customer_id = validation.customer_id_checked(customer_id)
    channel = validation.channel_checked(channel)
    category = validation.category_checked(category)
    if not isinstance(opted_out, bool):
        raise validation.invalid("opted_out", "true or false")
    if opted_out and category in NON_OPTIONAL:
        raise validation.invalid("category", "security notifications cannot be turned off", "not_optional")
    preference, _ = CustomerPreference.objects.update_or_create(
        customer_id=customer_id, channel=channel, category=category, defaults={"opted_out": opted_out}
    )
    return preference


def wallet_owner_record(*, wallet_id: str, customer_id: str) -> None:
    WalletOwner.objects.get_or_create(wallet_id=wallet_id, defaults={"customer_id": customer_id})


def _opted_out(customer_id: str, channel: str, category: str) -> bool:
    if category in NON_OPTIONAL:
        return False
    return CustomerPreference.objects.filter(
        customer_id=customer_id, channel=channel, category=category, opted_out=True
    ).exists()


def _address(recipient: Recipient | None, channel: str) -> str | None:
    return getattr(recipient, _ADDRESS_FIELD[channel]) if recipient is not None else None


# --- From events to notifications ----------------------------------------------------------------


def notifications_for_event(*, event: Event, kind: str, customer_id: str, variables: dict) -> list[Notification]:
    """One notification per channel for this customer (skipped ones recorded with why); the
    pending ones are queued after commit. A (event, kind, channel, customer) already recorded is
    left alone, so a redelivered event sends nothing twice."""
    category = CATEGORY_OF[kind]
    recipient = Recipient.objects.filter(customer_id=customer_id).first()
    variables = {"customer_id": customer_id, **variables}
    now = timezone.now()
    created = []
    for channel in Channel.values:
        if Notification.objects.filter(event_id=event.id, kind=kind, channel=channel, customer_id=customer_id).exists():
            continue
        template = template_for(kind=kind, channel=channel)
        if template is None:
            continue
        notification = Notification(
            event_id=event.id, event_type=event.type, kind=kind, category=category, customer_id=customer_id,
            channel=channel, template_source=template.source, variables=variables,
        )  # fmt: skip
        if not template.enabled:
            notification.status = Status.SKIPPED_DISABLED
        elif _opted_out(customer_id, channel, category):
            notification.status = Status.SKIPPED_OPTED_OUT
        elif not _address(recipient, channel):
            notification.status = Status.SKIPPED_NO_ADDRESS
        else:
            try:
                notification.subject, notification.body = render(template, channel=channel, variables=variables)
            except RenderError as error:
                notification.status, notification.last_error = Status.DEAD, str(error)
            else:
                notification.status, notification.next_attempt_at = Status.PENDING, now
        notification.save()
        if notification.status == Status.DEAD:
            _publish(notification, "notification.dead_lettered", error_code="render_error")
        elif notification.status == Status.PENDING:
            _queue_on_commit(notification.public_id)
        created.append(notification)
    return created


def money_out_threshold(currency: str) -> int:
    """Money out is notified from this amount (minor units); 0 for a currency not configured."""
    return int(settings.NOTIFICATIONS_MONEY_OUT_THRESHOLDS.get(currency, 0))


def operation_notifications(*, event: Event) -> list[Notification]:
    """operation.succeeded: money in for the receiving wallet's customer (cash-in, the counterparty
    of a transfer, the merchant of a QR payment); money out for the paying wallet's customer
    (cash-out, transfer, QR payment) from the currency's threshold. A wallet whose owner is not
    known (no wallet.created seen) is skipped and logged."""
    data = event.data
    kind, amount, currency = data["kind"], data["amount"], data["currency"]
    base = {
        "amount": format_minor(amount, currency), "currency": currency, "operation_id": data["operation_id"],
        "operation_kind": kind, "counterparty_wallet_id": data.get("counterparty_wallet_id") or "",
    }  # fmt: skip
    targets: list[tuple[str, str]] = []
    if kind == "cash_in":
        targets.append((Kind.MONEY_IN, data["wallet_id"]))
    if kind in ("transfer", "qr_payment") and data.get("counterparty_wallet_id"):
        targets.append((Kind.MONEY_IN, data["counterparty_wallet_id"]))
    if kind in ("cash_out", "transfer", "qr_payment") and amount >= money_out_threshold(currency):
        targets.append((Kind.MONEY_OUT, data["wallet_id"]))
    created = []
    for target_kind, wallet_id in targets:
        customer_id = WalletOwner.objects.filter(wallet_id=wallet_id).values_list("customer_id", flat=True).first()
        if customer_id is None:
            logger.warning("notifications.wallet_owner_unknown", event_id=event.id, wallet_id=wallet_id)
            continue
        variables = {**base, "wallet_id": wallet_id}
        created += notifications_for_event(event=event, kind=target_kind, customer_id=customer_id, variables=variables)
    return created


# --- Delivery ------------------------------------------------------------------------------------


def backoff_seconds(attempts: int) -> float:
    """Wait after the `attempts`-th failed attempt: base * 2^(attempts-1), capped."""
    base = settings.NOTIFICATIONS_BACKOFF_BASE_SECONDS
    return min(base * 2 ** max(attempts - 1, 0), settings.NOTIFICATIONS_BACKOFF_MAX_SECONDS)


def _queue(notification_id: str, *, countdown: float | None = None, schema: str | None = None) -> bool:
    return tenant_task_send(
        SEND_TASK, args=[notification_id], queue=settings.NOTIFICATIONS_QUEUE, countdown=countdown, schema=schema
    )


def _queue_on_commit(notification_id: str, *, countdown: float | None = None) -> None:
    schema = connection.schema_name
    transaction.on_commit(lambda: _queue(notification_id, countdown=countdown, schema=schema))


def _publish(notification: Notification, event_type: str, **extra) -> None:
    publish(
        event_type,
        notification.public_id,
        {
            "notification_id": notification.public_id, "source_event_id": notification.event_id,
            "customer_id": notification.customer_id, "kind": notification.kind, "channel": notification.channel,
            "attempts": notification.attempts, **extra,
        },
    )  # fmt: skip


def _error_code(error: Exception) -> str:
    return (str(error).split(":", 1)[0] or type(error).__name__)[:64]


@transaction.atomic
def notification_deliver(*, notification_id: str, now: datetime | None = None) -> str:
    """One delivery attempt of a pending, due notification; returns its status afterwards
    (`busy` if another attempt holds it, `not_due` before its next attempt time).

    Sent → `sent` (event notification.sent). ChannelRejected → `failed` at once
    (notification.failed). ChannelUnavailable (or any unexpected error of the adapter) → retried
    after backoff_seconds(attempts), re-queued after commit; the NOTIFICATIONS_MAX_ATTEMPTS-th
    failure → `dead` (notification.dead_lettered) with the last error.
    """
    now = now or timezone.now()
    notification = Notification.objects.select_for_update(skip_locked=True).filter(public_id=notification_id).first()
    if notification is None:
        return "busy" if Notification.objects.filter(public_id=notification_id).exists() else "not_found"
    if notification.status != Status.PENDING:
        return notification.status
    if notification.next_attempt_at and notification.next_attempt_at > now + timedelta(seconds=1):
        return "not_due"
    to = _address(Recipient.objects.filter(customer_id=notification.customer_id).first(), notification.channel)
    if not to:
        notification.status = Status.SKIPPED_NO_ADDRESS
        notification.save(update_fields=["status", "updated_at"])
        return notification.status
    message = OutgoingMessage(
        notification_id=notification.public_id, channel=notification.channel, to=to,
        subject=notification.subject, body=notification.body,
    )  # fmt: skip
    notification.attempts += 1
    try:
        result = channel_adapter(notification.channel).send(message)
    except ChannelRejected as error:
        notification.status, notification.last_error = Status.FAILED, str(error)[:500]
        notification.next_attempt_at = None
        _publish(notification, "notification.failed", error_code=_error_code(error))
    except Exception as error:  # ChannelUnavailable, or an adapter bug: retried, then dead-lettered
        if not isinstance(error, ChannelUnavailable):
            logger.exception("notifications.adapter_error", notification=notification.public_id)
        notification.last_error = str(error)[:500] or type(error).__name__
        if notification.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
            notification.status, notification.next_attempt_at = Status.DEAD, None
            _publish(notification, "notification.dead_lettered", error_code=_error_code(error))
        else:
            delay = backoff_seconds(notification.attempts)
            notification.next_attempt_at = now + timedelta(seconds=delay)
            _queue_on_commit(notification.public_id, countdown=delay)
    else:
        notification.status, notification.sent_at = Status.SENT, now
        notification.provider_message_id, notification.last_error = result.provider_message_id[:200], ""
        notification.next_attempt_at = None
        _publish(notification, "notification.sent")
    notification.save()
    logger.info(
        "notifications.attempt", notification=notification.public_id, channel=notification.channel,
        status=notification.status, attempts=notification.attempts,
    )  # fmt: skip
    return notification.status


def notifications_requeue_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """In the current tenant: queue pending notifications whose attempt is overdue by
    NOTIFICATIONS_REQUEUE_AFTER_SECONDS (a lost task, a broker outage). Returns how many."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.NOTIFICATIONS_REQUEUE_AFTER_SECONDS)
    due = Notification.objects.filter(status=Status.PENDING, next_attempt_at__lte=cutoff).order_by("next_attempt_at")
    return sum(_queue(public_id) for public_id in due.values_list("public_id", flat=True)[:limit])


@transaction.atomic
def dead_letters_retry(*, notification_ids: list[str] | None = None) -> int:
    """Put dead letters (all, or these) back to pending with a fresh attempt budget and queue them.
    One whose template had failed to render is rendered again with the current template."""
    rows = Notification.objects.select_for_update().filter(status=Status.DEAD)
    if notification_ids is not None:
        rows = rows.filter(public_id__in=notification_ids)
    now, count = timezone.now(), 0
    for notification in rows:
        if not notification.body:
            template = template_for(kind=notification.kind, channel=notification.channel)
            try:
                if template is None:
                    raise RenderError("render_error: no template")
                notification.subject, notification.body = render(
                    template, channel=notification.channel, variables=notification.variables
                )
                notification.template_source = template.source
            except RenderError as error:
                notification.last_error = str(error)
                notification.save(update_fields=["last_error", "updated_at"])
                continue
        notification.status, notification.attempts, notification.next_attempt_at = Status.PENDING, 0, now
        notification.save()
        _queue_on_commit(notification.public_id)
        count += 1
    return count
