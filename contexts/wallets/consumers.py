"""Subscriptions: a wallet's tier follows its customer's KYC level, as identity announces it.

By event name only (identity publishes `kyc.verified` and `kyc.expired` with `customer_id` and
`level`, the customer's KYC level after the event); nothing of identity is imported. A payload
that breaks that contract raises, so the delivery is retried and ends as a dead letter for
operators instead of being dropped silently.
"""

from finfactory.events.subscribers import Event, subscribe

from .services import kyc_level_apply


def kyc_level_changed(event: Event) -> None:
    kyc_level_apply(
        customer_id=event.data.get("customer_id"),
        level=event.data.get("level"),
        event_id=event.id,
        event_type=event.type,
        occurred_at=event.occurred_at,
    )


subscribe("kyc.verified", name="wallets.tier_on_kyc_verified")(kyc_level_changed)
subscribe("kyc.expired", name="wallets.tier_on_kyc_expired")(kyc_level_changed)
