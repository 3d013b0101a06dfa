"""Write side of the wallet lifecycle: open, suspend, activate, close, and the tier following the
customer's KYC level. Each write is one transaction: the row change, its event (outbox) and its
audit record.

Locks are taken in the order locks.py defines, the audit-chain lock first.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from finfactory.audit.services import audit_record
from finfactory.errors import BusinessRuleViolation, Conflict, FieldError
from finfactory.money import require_currency
from finfactory.outbox.publish import publish, publish_many

from . import locks, tiers, validation
from .dtos import ClosingBalance, WalletDTO
from .models import CustomerKyc, FlowKind, LimitUsage, Tier, Wallet, WalletStatus
from .selectors import wallet_dto, wallet_row

AUDIT_TARGET = "wallet"
# action → (past tense for messages, event published)
TRANSITIONS = {
    "suspend": ("suspended", "wallet.suspended"),
    "activate": ("activated", "wallet.activated"),
    "close": ("closed", "wallet.closed"),
}


def _state(wallet: Wallet, tier: str) -> dict:
    return {
        "customer_id": wallet.customer_id,
        "currency": wallet.currency,
        "status": wallet.status,
        "kyc_level": wallet.kyc_level,
        "tier": tier,
    }


def _tiers_by_level() -> dict[tuple[str, str], Tier]:
    return {(tier.kyc_level, tier.currency): tier for tier in Tier.objects.all()}


def wallet_open(*, customer_id: str, currency: str, kyc_level: str) -> WalletDTO:
    """Open the customer's wallet in `currency`, or return the one already open (`replayed`)."""
    customer_id = validation.customer_id(customer_id)
    currency = require_currency(currency)
    kyc_level = validation.kyc_level(kyc_level)
    open_wallets = Wallet.objects.filter(customer_id=customer_id, currency=currency).exclude(status=WalletStatus.CLOSED)
    existing = open_wallets.first()
    if existing is not None:  # a retry: answered without taking any lock
        return wallet_dto(existing, replayed=True)
    tiers.policy()
    with transaction.atomic():
        locks.audit_chain()
        locks.customer(customer_id)
        locks.policy_share()
        existing = open_wallets.first()  # a concurrent open may have won while we waited
        if existing is not None:
            return wallet_dto(existing, replayed=True)
        # KYC news already heard from identity is newer than what the caller read before it.
        heard = CustomerKyc.objects.filter(customer_id=customer_id).first()
        level, source = (heard.level, f"{heard.event_type} {heard.event_id}") if heard else (kyc_level, "the caller")
        tier = Tier.objects.filter(kyc_level=level, currency=currency).first()
        if tier is None:
            raise BusinessRuleViolation(
                f"The tenant's product offers no wallets in {currency}.",
                code="currency_not_supported",
                errors=[FieldError("currency", "No tier is defined for this currency.", "currency_not_supported")],
            )
        wallet = Wallet.objects.create(customer_id=customer_id, currency=currency, kyc_level=level)
        LimitUsage.objects.bulk_create(LimitUsage(wallet=wallet, kind=kind) for kind in FlowKind.values)
        publish(
            "wallet.created",
            wallet.public_id,
            {
                "wallet_id": wallet.public_id,
                "customer_id": customer_id,
                "currency": currency,
                "status": wallet.status,
                "tier": tier.code,
                "kyc_level": level,
                "max_balance": tier.max_balance,
                "created_at": wallet.created_at.isoformat(),
            },
        )
        audit_record(
            action="wallet.created",
            target_type=AUDIT_TARGET,
            target_id=wallet.public_id,
            after=_state(wallet, tier.code),
            reason=f"Opened at KYC level {level} (from {source})",
        )
    return wallet_dto(wallet)


def _require_empty(closing_balance: ClosingBalance) -> None:
    for name in ("posted", "held"):
        if getattr(closing_balance, name) != 0:
            raise BusinessRuleViolation(
                "Only a wallet whose ledger account is empty, with nothing held, can close.",
                code="balance_not_zero",
                errors=[FieldError(f"closing_balance.{name}", "Must be 0.", "balance_not_zero")],
            )


def _transition(*, wallet_id: str, action: str, reason: str, closing_balance: object = None) -> WalletDTO:
    """Apply one lifecycle transition under the wallet's row lock; refuse an illegal one with
    409 `invalid_transition` before anything is written."""
    past, event_type = TRANSITIONS[action]
    reason = validation.reason(reason)
    if action == "close":
        closing_balance = validation.closing_balance(closing_balance)
    found = wallet_row(wallet_id)
    with transaction.atomic():
        locks.audit_chain()
        wallet = Wallet.objects.select_for_update().get(pk=found.pk)
        previous = wallet.status
        method = getattr(wallet, action)
        if not can_proceed(method):
            raise Conflict(
                f"The wallet is {wallet.status}: it cannot be {past}.",
                code="invalid_transition",
                errors=[FieldError("wallet_id", f"The wallet is {wallet.status}.", "invalid_transition")],
                status=wallet.status,
                action=action,
            )
        extra = {}
        if action == "close":
            _require_empty(closing_balance)
            extra = {"closing_balance": asdict(closing_balance)}
            method(reason=reason, at=timezone.now())
        else:
            method(reason=reason)
        wallet.save(update_fields=["status", "status_reason", "closed_at", "updated_at"])
        tier = _tiers_by_level()[(wallet.kyc_level, wallet.currency)].code
        publish(
            event_type,
            wallet.public_id,
            {
                "wallet_id": wallet.public_id,
                "customer_id": wallet.customer_id,
                "currency": wallet.currency,
                "status": wallet.status,
                "previous_status": previous,
                "reason": reason,
                **extra,
            },
        )
        audit_record(
            action=event_type,
            target_type=AUDIT_TARGET,
            target_id=wallet.public_id,
            before={**_state(wallet, tier), "status": previous},
            after={**_state(wallet, tier), **extra},
            reason=reason,
        )
    return wallet_dto(wallet)


def wallet_suspend(*, wallet_id: str, reason: str) -> WalletDTO:
    return _transition(wallet_id=wallet_id, action="suspend", reason=reason)


def wallet_activate(*, wallet_id: str, reason: str) -> WalletDTO:
    return _transition(wallet_id=wallet_id, action="activate", reason=reason)


def wallet_close(*, wallet_id: str, reason: str, closing_balance: ClosingBalance) -> WalletDTO:
    return _transition(wallet_id=wallet_id, action="close", reason=reason, closing_balance=closing_balance)


def kyc_level_apply(
    *, customer_id: object, level: object, event_id: str, event_type: str, occurred_at: datetime
) -> list[WalletDTO]:
    """Record the customer's KYC level from identity's event and move their open wallets to the
    tier it maps to. News older than what was already applied changes nothing (events of one
    customer may arrive out of order); returns the wallets whose tier changed."""
    customer_id = validation.customer_id(customer_id, "data.customer_id")
    level = validation.kyc_level(level, "data.level")
    with transaction.atomic():
        locks.audit_chain()
        locks.customer(customer_id)
        heard = CustomerKyc.objects.select_for_update().filter(customer_id=customer_id).first()
        if heard is not None and heard.occurred_at > occurred_at:
            return []
        fields = {"level": level, "event_id": event_id, "event_type": event_type, "occurred_at": occurred_at}
        if heard is None:
            CustomerKyc.objects.create(customer_id=customer_id, **fields)
        else:
            CustomerKyc.objects.filter(pk=heard.pk).update(**fields, updated_at=timezone.now())
        wallets = list(
            Wallet.objects.select_for_update()
            .filter(customer_id=customer_id)
            .exclude(status=WalletStatus.CLOSED)
            .exclude(kyc_level=level)
            .order_by("id")
        )
        if not wallets:
            return []
        by_level = _tiers_by_level()
        events, audits = [], []
        for wallet in wallets:
            previous_level = wallet.kyc_level
            previous_tier = by_level[(previous_level, wallet.currency)].code
            tier = by_level[(level, wallet.currency)]
            before = _state(wallet, previous_tier)
            wallet.kyc_level = level
            wallet.save(update_fields=["kyc_level", "updated_at"])
            events.append(
                (
                    "wallet.limit.updated",
                    wallet.public_id,
                    {
                        "scope": "wallet",
                        "wallet_id": wallet.public_id,
                        "customer_id": customer_id,
                        "currency": wallet.currency,
                        "tier": tier.code,
                        "previous_tier": previous_tier,
                        "kyc_level": level,
                        "previous_kyc_level": previous_level,
                        "max_balance": tier.max_balance,
                        "cause": event_type,
                        "cause_event_id": event_id,
                    },
                )
            )
            audits.append((wallet, before, _state(wallet, tier.code)))
        publish_many(events)
        for wallet, before, after in audits:
            audit_record(
                action="wallet.tier_changed",
                target_type=AUDIT_TARGET,
                target_id=wallet.public_id,
                before=before,
                after=after,
                reason=f"{event_type} {event_id}: KYC level {before['kyc_level']} → {level}",
            )
        return [wallet_dto(wallet, tiers={key: t.code for key, t in by_level.items()}) for wallet in wallets]
