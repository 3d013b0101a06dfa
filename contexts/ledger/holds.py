"""Two-phase movements: a hold reserves available funds; capture posts (all or part) and gives
back the rest; release gives everything back; expiry releases a hold nobody captured in time.

Lock order everywhere: the hold row, then accounts by id, then the chain head (posting.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from finfactory.errors import BusinessRuleViolation, Conflict, FieldError
from finfactory.money import require_amount, require_currency
from finfactory.outbox.publish import publish_many

from . import validation
from .canonical import request_digest
from .dtos import HoldDTO, Line
from .models import Account, EntryKind, Hold, HoldStatus, JournalEntry, NormalBalance
from .posting import _lock_timeout, balance_event, post_entry, translate_database_error
from .selectors import account_row, hold_capture_entry_id, hold_dto, hold_row

DEFAULT_TTL = timedelta(days=7)
MAX_TTL = timedelta(days=31)


def _reused(field: str = "external_ref") -> Conflict:
    return Conflict(
        "external_ref was already used for a different hold",
        code="external_ref_reused",
        errors=[FieldError(field, "Already used for a different request.", "external_ref_reused")],
    )


def _change_held(account_pk: int, delta: int) -> dict:
    """Add `delta` to an account's held amount with one conditional UPDATE; the account's state.

    The condition keeps the account within its floor, so a reservation can never overdraw it,
    however many run at once; giving a reservation back (delta < 0) is always allowed, even on
    a frozen account. Returns None when the condition refused the change.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [_lock_timeout()])
        cursor.execute(
            "UPDATE ledger_account SET held = held + %s, updated_at = now()"
            " WHERE id = %s AND (%s <= 0 OR (status = 'active'"
            " AND (overdraft_limit IS NULL OR posted - held - %s >= -overdraft_limit)))"
            " RETURNING public_id, posted, held, last_sequence, currency, owner_ref",
            [delta, account_pk, delta, delta],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    public_id, posted, held, sequence, currency, owner_ref = row
    return {
        "id": public_id,
        "posted": posted,
        "held": held,
        "sequence": sequence,
        "currency": currency,
        "owner_ref": owner_ref,
    }


def hold_create(
    *,
    external_ref: str,
    account_id: str,
    credit_account_id: str,
    amount: int,
    currency: str,
    expires_at: datetime | None = None,
    description: str = "",
    metadata: dict | None = None,
) -> HoldDTO:
    """Reserve `amount` on `account_id` (debited at capture) for `credit_account_id`."""
    external_ref = validation.external_ref(external_ref)
    account_id, credit_account_id = validation.two_accounts(
        account_id, "account_id", credit_account_id, "credit_account_id"
    )
    amount = require_amount(amount)
    currency = require_currency(currency)
    description = validation.description(description)
    metadata = validation.metadata(metadata)
    now = timezone.now()
    expires_at = validation.moment(expires_at, "expires_at") or now + DEFAULT_TTL
    if not now < expires_at <= now + MAX_TTL:
        raise validation.invalid("expires_at", f"Must be in the future, at most {MAX_TTL.days} days away.", "invalid")
    digest = request_digest(
        account=account_id, credit_account=credit_account_id, amount=amount, currency=currency,
        description=description, metadata=metadata,
    )  # fmt: skip
    existing = Hold.objects.select_related("account", "credit_account").filter(external_ref=external_ref).first()
    if existing is not None:
        if existing.request_digest != digest:
            raise _reused()
        return hold_dto(existing, replayed=True, capture_entry_id=hold_capture_entry_id(existing))
    account = account_row(account_id)
    credit_account = account_row(credit_account_id, field="credit_account_id")
    for subject, field in ((account, "account_id"), (credit_account, "credit_account_id")):
        if subject.currency != currency:
            raise BusinessRuleViolation(
                f"{subject.public_id} holds {subject.currency}, not {currency}",
                code="currency_mismatch",
                errors=[FieldError(field, f"The account holds {subject.currency}.", "currency_mismatch")],
            )
    if account.normal_balance != NormalBalance.CREDIT:
        raise BusinessRuleViolation(
            "Holds reserve funds of credit-normal accounts (wallets, liabilities).",
            code="hold_not_supported",
            errors=[
                FieldError("account_id", "Funds cannot be reserved on a debit-normal account.", "hold_not_supported")
            ],
        )
    try:
        with transaction.atomic():
            state = _change_held(account.pk, amount)
            if state is None:
                refreshed = Account.objects.get(pk=account.pk)
                code = "account_not_active" if refreshed.status != "active" else "insufficient_funds"
                raise BusinessRuleViolation(
                    f"{account.public_id}: {code.replace('_', ' ')}",
                    code=code,
                    errors=[FieldError("account_id", code.replace("_", " ").capitalize() + ".", code)],
                    account_id=account.public_id,
                )
            hold = Hold.objects.create(
                external_ref=external_ref,
                request_digest=digest,
                account=account,
                credit_account=credit_account,
                amount=amount,
                currency=currency,
                description=description,
                metadata=metadata,
                expires_at=expires_at,
                created_at=now,
            )
            publish_many(
                [
                    (
                        "hold.created",
                        hold.public_id,
                        {
                            "hold_id": hold.public_id,
                            "external_ref": external_ref,
                            "account_id": account.public_id,
                            "credit_account_id": credit_account.public_id,
                            "amount": amount,
                            "currency": currency,
                            "expires_at": expires_at.isoformat(),
                        },
                    ),
                    balance_event(state, "hold_created", hold.public_id),
                ]
            )
    except IntegrityError:
        # The same reference was committed by a concurrent call: answer as a retry would be.
        existing = Hold.objects.select_related("account", "credit_account").get(external_ref=external_ref)
        if existing.request_digest != digest:
            raise _reused() from None
        return hold_dto(existing, replayed=True, capture_entry_id=hold_capture_entry_id(existing))
    except DatabaseError as exc:
        error = translate_database_error(exc)
        if error is None:
            raise
        raise error from exc
    return hold_dto(hold)


def _locked_hold(hold_id: str) -> Hold:
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [_lock_timeout()])
    try:
        return Hold.objects.select_for_update().select_related("account", "credit_account").get(pk=hold_row(hold_id).pk)
    except DatabaseError as exc:
        error = translate_database_error(exc)
        if error is None:
            raise
        raise error from exc


def _not_active(hold: Hold) -> Conflict:
    return Conflict(f"The hold is {hold.status}.", code=f"hold_{hold.status}", errors=[])


def _released_event(hold: Hold, *, captured: int, capture_entry_id: str | None):
    return (
        "hold.released",
        hold.public_id,
        {
            "hold_id": hold.public_id,
            "account_id": hold.account.public_id,
            "status": hold.status,
            "amount": hold.amount,
            "captured_amount": captured,
            "released_amount": hold.amount - captured,
            "currency": hold.currency,
            "capture_entry_id": capture_entry_id,
        },
    )


def hold_capture(
    *, hold_id: str, external_ref: str, amount: int | None = None, description: str = "", metadata: dict | None = None
) -> HoldDTO:
    """Post `amount` (default: all) from the hold's account to its credit account and release
    the rest of the reservation, in one entry. A hold is captured at most once."""
    external_ref = validation.external_ref(external_ref)
    if amount is not None:
        amount = require_amount(amount)
    description = validation.description(description)
    metadata = validation.metadata(metadata)
    with transaction.atomic():
        hold = _locked_hold(hold_id)
        if hold.status == HoldStatus.CAPTURED:
            entry = JournalEntry.objects.filter(hold_id=hold.pk).first()
            if entry is not None and entry.external_ref == external_ref and amount in (None, hold.captured_amount):
                return hold_dto(hold, replayed=True, capture_entry_id=entry.public_id)
            raise _not_active(hold)
        if hold.status != HoldStatus.ACTIVE:
            raise _not_active(hold)
        now = timezone.now()
        if hold.expires_at <= now:
            raise Conflict("The hold has expired.", code="hold_expired")
        captured = hold.amount if amount is None else amount
        if captured > hold.amount:
            raise BusinessRuleViolation(
                f"At most {hold.amount} can be captured.",
                code="capture_exceeds_hold",
                errors=[FieldError("amount", f"At most {hold.amount}.", "capture_exceeds_hold")],
            )
        hold.capture(amount=captured, at=now)
        hold.save()
        entry = post_entry(
            kind=EntryKind.HOLD_CAPTURE,
            external_ref=external_ref,
            lines=[
                Line(hold.account.public_id, "debit", captured, hold.currency),
                Line(hold.credit_account.public_id, "credit", captured, hold.currency),
            ],
            description=description or hold.description,
            metadata=metadata or hold.metadata,
            hold=(hold.pk, hold.public_id),
            release=(hold.account.public_id, hold.amount),
            digest=request_digest(hold=hold.public_id, amount=captured, description=description, metadata=metadata),
            fields={hold.account.public_id: "hold_id", hold.credit_account.public_id: "hold_id"},
            extra_events=lambda applied: [_released_event(hold, captured=captured, capture_entry_id=applied.public_id)],
        )
        if entry.replayed:
            raise _reused()
    return hold_dto(hold, capture_entry_id=entry.id)


def _finish(hold: Hold, status: str) -> HoldDTO:
    now = timezone.now()
    hold.release(at=now) if status == HoldStatus.RELEASED else hold.expire(at=now)
    hold.save()
    state = _change_held(hold.account_id, -hold.amount)
    publish_many(
        [
            _released_event(hold, captured=0, capture_entry_id=None),
            balance_event(state, "hold_released", hold.public_id),
        ]
    )
    return hold_dto(hold)


def hold_release(*, hold_id: str) -> HoldDTO:
    """Give the whole reservation back. Releasing a released hold answers as the first time did."""
    with transaction.atomic():
        hold = _locked_hold(hold_id)
        if hold.status == HoldStatus.RELEASED:
            return hold_dto(hold, replayed=True)
        if hold.status != HoldStatus.ACTIVE:
            raise _not_active(hold)
        return _finish(hold, HoldStatus.RELEASED)


def holds_expire_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Expire active holds whose time has come (the beat task calls this in every tenant)."""
    now = now or timezone.now()
    due = list(
        Hold.objects.filter(status=HoldStatus.ACTIVE, expires_at__lte=now)
        .order_by("expires_at")[:limit]
        .values_list("public_id", flat=True)
    )
    expired = 0
    for public_id in due:
        with transaction.atomic():
            hold = _locked_hold(public_id)
            if hold.status == HoldStatus.ACTIVE and hold.expires_at <= now:
                _finish(hold, HoldStatus.EXPIRED)
                expired += 1
    return expired
