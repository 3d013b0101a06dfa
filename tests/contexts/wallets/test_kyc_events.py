"""A wallet's tier follows its customer's KYC level as identity announces it, by event name."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from contexts.wallets import api
from contexts.wallets.consumers import kyc_level_changed
from contexts.wallets.models import CustomerKyc
from finfactory.audit.models import AuditRecord
from finfactory.errors import InvalidInput
from finfactory.events.catalog import (
    EventType,
    UnknownEventType,
    event_type_get,
    register_event_types,
    unregister_event_type,
)
from finfactory.events.subscribers import Event, subscriptions_for
from finfactory.ids import new_id
from finfactory.outbox.drain import drain
from finfactory.outbox.models import OutboxEvent
from finfactory.outbox.publish import publish
from finfactory.request_context import acting_as

from .conftest import writes


def kyc_event(customer_id: str, level: str, *, type: str = "kyc.verified", occurred_at=None) -> Event:
    """The envelope the outbox drain hands to a subscriber."""
    return Event(
        id=new_id("evt"),
        type=type,
        version=1,
        tenant="acme",
        occurred_at=occurred_at or timezone.now(),
        aggregate_type="customer",
        aggregate_id=customer_id,
        sequence=1,
        data={"customer_id": customer_id, "level": level},
        request_id="req_kyc",
        actor="system:identity",
    )


def deliver(event: Event) -> None:
    with acting_as(f"event:{event.type}"):
        kyc_level_changed(event)


def test_a_verification_moves_the_customers_open_wallet_to_the_new_tier_even_if_suspended(wallet):
    opened = wallet(kyc_level="none")
    api.wallet_suspend(wallet_id=opened.id, reason="review")
    event = kyc_event(opened.customer_id, "full")
    since = OutboxEvent.objects.count()

    deliver(event)

    moved = api.wallet_get(wallet_id=opened.id)
    assert (moved.kyc_level, moved.tier, moved.status) == ("full", "premium", "suspended")
    assert api.limits_get(wallet_id=opened.id).max_balance == 50_000_000
    (published,) = OutboxEvent.objects.order_by("id")[since:]
    assert (published.type, published.aggregate_id) == ("wallet.limit.updated", opened.id)
    assert published.data == {
        "scope": "wallet", "wallet_id": opened.id, "customer_id": opened.customer_id, "currency": "PHP",
        "tier": "premium", "previous_tier": "starter", "kyc_level": "full", "previous_kyc_level": "none",
        "max_balance": 50_000_000, "cause": "kyc.verified", "cause_event_id": event.id,
    }  # fmt: skip
    assert published.actor == "event:kyc.verified"
    record = AuditRecord.objects.filter(target_id=opened.id).latest("id")
    assert (record.action, record.actor) == ("wallet.tier_changed", "event:kyc.verified")
    assert record.reason == f"kyc.verified {event.id}: KYC level none → full"
    assert (record.before["tier"], record.after["tier"]) == ("starter", "premium")


def test_an_expiry_moves_the_wallet_back_down(wallet):
    opened = wallet(kyc_level="full")

    deliver(kyc_event(opened.customer_id, "none", type="kyc.expired"))

    assert api.wallet_get(wallet_id=opened.id).tier == "starter"
    assert OutboxEvent.objects.filter(type="wallet.limit.updated").get().data["cause"] == "kyc.expired"


def test_news_that_changes_no_level_writes_no_event_and_no_audit(wallet):
    opened = wallet(kyc_level="basic")
    before = writes()

    deliver(kyc_event(opened.customer_id, "basic"))

    assert writes() == before
    assert CustomerKyc.objects.get(customer_id=opened.customer_id).level == "basic"


def test_a_closed_wallet_keeps_its_last_tier(wallet):
    opened = wallet(kyc_level="basic")
    closed = api.ClosingBalance(ledger_account_id=new_id("acc"), posted=0, held=0, sequence=0)
    api.wallet_close(wallet_id=opened.id, reason="left", closing_balance=closed)
    before = writes()

    deliver(kyc_event(opened.customer_id, "full"))

    assert api.wallet_get(wallet_id=opened.id).tier == "basic"
    assert writes() == before


def test_older_news_arriving_late_is_ignored(wallet):
    opened = wallet(kyc_level="none")
    now = timezone.now()
    deliver(kyc_event(opened.customer_id, "none", type="kyc.expired", occurred_at=now))
    before = writes()

    deliver(kyc_event(opened.customer_id, "full", occurred_at=now - timedelta(seconds=1)))

    assert api.wallet_get(wallet_id=opened.id).tier == "starter"
    assert writes() == before


def test_a_wallet_opened_after_the_news_starts_at_the_level_heard(wallets):
    customer = new_id("cus")
    news = kyc_event(customer, "full")
    deliver(news)

    opened = api.wallet_open(customer_id=customer, currency="PHP", kyc_level="none")

    assert (opened.kyc_level, opened.tier) == ("full", "premium")
    record = AuditRecord.objects.get(action="wallet.created", target_id=opened.id)
    assert record.reason == f"Opened at KYC level full (from kyc.verified {news.id})"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"customer_id": "someone", "level": "full"}, "data.customer_id"),
        ({"level": "full"}, "data.customer_id"),
        ({"customer_id": "cus_" + "0" * 26, "level": "platinum"}, "data.level"),
    ],
)
def test_a_payload_breaking_the_contract_fails_loudly_and_changes_nothing(wallet, data, field):
    opened = wallet(kyc_level="none")
    event = kyc_event(opened.customer_id, "full")
    before = writes()

    with pytest.raises(InvalidInput) as refused:
        deliver(Event(**{**event.__dict__, "data": data}))

    assert [e.field for e in refused.value.errors] == [field]
    assert writes() == before
    assert api.wallet_get(wallet_id=opened.id).tier == "starter"


def _wallets_subscribers(event_type: str) -> list[str]:
    # Other contexts (fraud's read model) subscribe to the same events; these are wallets' own.
    return [s.name for s in subscriptions_for(event_type) if s.name.startswith("wallets.")]


def test_wallets_subscribes_to_both_kyc_events_by_name():
    assert _wallets_subscribers("kyc.verified") == ["wallets.tier_on_kyc_verified"]
    assert _wallets_subscribers("kyc.expired") == ["wallets.tier_on_kyc_expired"]


@pytest.fixture
def kyc_event_types():
    """identity's event types when its context is installed; stand-ins with the agreed fields if not."""
    stand_ins = []
    for name in ("kyc.verified", "kyc.expired"):
        try:
            event_type_get(name)
        except UnknownEventType:
            stand_ins.append(
                EventType(
                    name=name,
                    version=1,
                    aggregate_type="customer",
                    schema={"type": "object", "required": ["customer_id", "level"]},
                )
            )
    register_event_types(stand_ins, owner="tests")
    yield
    for event_type in stand_ins:
        unregister_event_type(event_type.name)


def _identity_payload(name: str, customer_id: str, level: str) -> dict:
    """A payload valid for identity's registered schema (or the stand-in's)."""
    properties = event_type_get(name).schema.get("properties", {})
    data = {"customer_id": customer_id, "level": level}
    samples = {
        "kyc_id": new_id("kyc"), "submission_id": new_id("sub"), "verified_at": timezone.now().isoformat(),
        "expires_at": (timezone.now() + timedelta(days=365)).isoformat(), "expired_at": timezone.now().isoformat(),
        "previous_level": "full",
    }  # fmt: skip
    return {**data, **{key: value for key, value in samples.items() if key in properties}}


def test_through_the_outbox_drain_the_tier_follows_verification_and_expiry(wallet, kyc_event_types):
    opened = wallet(kyc_level="none")

    with transaction.atomic():
        publish("kyc.verified", opened.customer_id, _identity_payload("kyc.verified", opened.customer_id, "full"))
    first = drain()
    upgraded = api.wallet_get(wallet_id=opened.id).tier
    with transaction.atomic():
        publish("kyc.expired", opened.customer_id, _identity_payload("kyc.expired", opened.customer_id, "none"))
    second = drain()

    assert (first.errors, second.errors) == ({}, {})
    assert (upgraded, api.wallet_get(wallet_id=opened.id).tier) == ("premium", "starter")
    causes = (
        OutboxEvent.objects.filter(type="wallet.limit.updated").order_by("id").values_list("data__cause", flat=True)
    )
    assert list(causes) == ["kyc.verified", "kyc.expired"]
