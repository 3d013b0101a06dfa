"""Subscriptions: fraud's own picture of customers, wallets and ledger accounts, by event name.

Nothing of identity, wallets or the ledger is imported: the payloads are the contract
(docs/events.md). Each handler is an upsert that only ever moves a fact forward (a later KYC
change, a higher balance sequence), so events of different aggregates arriving in any order leave
the same picture. A payload that breaks its contract raises, so the delivery is retried and ends
as a dead letter for operators instead of being dropped silently.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.utils.dateparse import parse_datetime

from finfactory.events.subscribers import Event, subscribe

from .models import KnownWallet


def _moment(value: object) -> datetime:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise ValueError(f"not a date-time: {value!r}")
    return parsed


def _execute(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@subscribe("customer.created", name="fraud.customer_created")
def customer_created(event: Event) -> None:
    _execute(
        "INSERT INTO fraud_knowncustomer (customer_id, created_at, kyc_level, movements_count, movements_amount, "
        "synthetic, updated_at) VALUES (%s, %s, 'none', 0, 0, false, now()) "
        "ON CONFLICT (customer_id) DO UPDATE SET created_at = EXCLUDED.created_at, updated_at = now()",
        [event.data["customer_id"], _moment(event.data["created_at"])],
    )


def _kyc_level(event: Event) -> None:
    # A change older than the one already applied (a redelivery after a later event) is ignored.
    _execute(
        "INSERT INTO fraud_knowncustomer (customer_id, kyc_level, kyc_changed_at, movements_count, movements_amount, "
        "synthetic, updated_at) VALUES (%s, %s, %s, 0, 0, false, now()) "
        "ON CONFLICT (customer_id) DO UPDATE SET kyc_level = EXCLUDED.kyc_level, "
        "kyc_changed_at = EXCLUDED.kyc_changed_at, updated_at = now() "
        "WHERE fraud_knowncustomer.kyc_changed_at IS NULL "
        "OR fraud_knowncustomer.kyc_changed_at <= EXCLUDED.kyc_changed_at",
        [event.data["customer_id"], event.data["level"], event.occurred_at],
    )


subscribe("kyc.verified", name="fraud.kyc_verified")(_kyc_level)
subscribe("kyc.expired", name="fraud.kyc_expired")(_kyc_level)


@subscribe("wallet.created", name="fraud.wallet_created")
def wallet_created(event: Event) -> None:
    data = event.data
    KnownWallet.objects.update_or_create(
        wallet_id=data["wallet_id"],
        defaults={
            "customer_id": data["customer_id"],
            "currency": data["currency"],
            "created_at": _moment(data["created_at"]),
        },
        create_defaults={
            "customer_id": data["customer_id"],
            "currency": data["currency"],
            "created_at": _moment(data["created_at"]),
            "status": data["status"],
        },
    )


def _wallet_status(event: Event) -> None:
    # Transitions of one wallet arrive in order (one aggregate), after its wallet.created.
    KnownWallet.objects.filter(wallet_id=event.data["wallet_id"]).update(status=event.data["status"])


for _name in ("activated", "suspended", "closed"):
    subscribe(f"wallet.{_name}", name=f"fraud.wallet_{_name}")(_wallet_status)


@subscribe("balance.updated", name="fraud.balance_updated")
def balance_updated(event: Event) -> None:
    data = event.data
    _execute(
        "INSERT INTO fraud_knownaccount (account_id, owner_ref, currency, posted, available, balance_sequence, "
        "credits_count, credits_amount, debits_count, debits_amount) VALUES (%s, %s, %s, %s, %s, %s, 0, 0, 0, 0) "
        "ON CONFLICT (account_id) DO UPDATE SET owner_ref = EXCLUDED.owner_ref, currency = EXCLUDED.currency, "
        "posted = EXCLUDED.posted, available = EXCLUDED.available, balance_sequence = EXCLUDED.balance_sequence "
        "WHERE fraud_knownaccount.balance_sequence <= EXCLUDED.balance_sequence",
        [data["account_id"], data["owner_ref"], data["currency"], data["posted"], data["available"], event.sequence],
    )


@subscribe("journal.posted", name="fraud.journal_posted")
def journal_posted(event: Event) -> None:
    posted_at = _moment(event.data["posted_at"])
    for line in event.data["postings"]:
        credit = line["direction"] == "credit"
        _execute(
            "INSERT INTO fraud_knownaccount (account_id, owner_ref, currency, posted, available, balance_sequence, "
            "credits_count, credits_amount, debits_count, debits_amount, last_posting_at) "
            "VALUES (%s, '', %s, 0, 0, 0, %s, %s, %s, %s, %s) ON CONFLICT (account_id) DO UPDATE SET "
            "credits_count = fraud_knownaccount.credits_count + EXCLUDED.credits_count, "
            "credits_amount = fraud_knownaccount.credits_amount + EXCLUDED.credits_amount, "
            "debits_count = fraud_knownaccount.debits_count + EXCLUDED.debits_count, "
            "debits_amount = fraud_knownaccount.debits_amount + EXCLUDED.debits_amount, "
            "last_posting_at = greatest(fraud_knownaccount.last_posting_at, EXCLUDED.last_posting_at)",
            [
                line["account_id"],
                line["currency"],
                int(credit),
                line["amount"] if credit else 0,
                int(not credit),
                0 if credit else line["amount"],
                posted_at,
            ],
        )
