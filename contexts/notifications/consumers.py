"""Subscriptions by event name: notifications learns from identity, wallets and products' events
without importing them (the payloads in docs/events.md are the contract). Handlers do database
work only; sends are queued as their own tasks after commit. A payload breaking its contract
raises, so the delivery is retried and dead-lettered by the outbox instead of dropped."""

from __future__ import annotations

from finfactory.events.subscribers import Event, subscribe

from . import services
from .models import Kind


@subscribe("wallet.created", name="notifications.wallet_created")
def wallet_created(event: Event) -> None:
    services.wallet_owner_record(wallet_id=event.data["wallet_id"], customer_id=event.data["customer_id"])


@subscribe("kyc.verified", name="notifications.kyc_verified")
def kyc_verified(event: Event) -> None:
    services.notifications_for_event(
        event=event, kind=Kind.KYC_VERIFIED, customer_id=event.data["customer_id"],
        variables={"level": event.data["level"]},
    )  # fmt: skip


@subscribe("kyc.rejected", name="notifications.kyc_rejected")
def kyc_rejected(event: Event) -> None:
    data = event.data
    services.notifications_for_event(
        event=event, kind=Kind.KYC_REJECTED, customer_id=data["customer_id"],
        variables={"reason": data["reason"], "resubmissions_left": data["resubmissions_left"]},
    )  # fmt: skip


@subscribe("wallet.suspended", name="notifications.wallet_suspended")
def wallet_suspended(event: Event) -> None:
    data = event.data
    services.wallet_owner_record(wallet_id=data["wallet_id"], customer_id=data["customer_id"])
    services.notifications_for_event(
        event=event, kind=Kind.WALLET_SUSPENDED, customer_id=data["customer_id"],
        variables={"wallet_id": data["wallet_id"], "reason": data["reason"]},
    )  # fmt: skip


@subscribe("webhook_endpoint.disabled", name="notifications.webhook_endpoint_disabled")
def webhook_endpoint_disabled(event: Event) -> None:
    """The tenant is told (its operations contact, by e-mail) that an endpoint was switched off."""
    data = event.data
    services.notifications_for_event(
        event=event,
        kind=Kind.WEBHOOK_ENDPOINT_DISABLED,
        customer_id=services.TENANT_RECIPIENT,
        variables={key: data[key] for key in ("endpoint_id", "url_host", "reason", "failure_streak", "failing_since")},
    )


@subscribe("operation.succeeded", name="notifications.operation_succeeded")
def operation_succeeded(event: Event) -> None:
    services.operation_notifications(event=event)
