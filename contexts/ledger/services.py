"""Write side: accounts, entries, transfers and reversals. Every money movement goes through
posting.post_entry (one transaction: apply, publish, seal)."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Sum

from finfactory.errors import BusinessRuleViolation, Conflict, FieldError
from finfactory.money import require_amount, require_currency

from . import validation
from .canonical import request_digest
from .dtos import AccountDTO, EntryDTO, Line
from .models import NORMAL_BALANCE, Account, AccountType, EntryKind, JournalEntry, Posting
from .posting import post_entry
from .selectors import account_dto, account_row, entry_dto, entry_row

# System accounts every tenant gets on demand, one per currency: (type, overdraft floor).
SYSTEM_ACCOUNTS = {
    "float": (AccountType.ASSET, "Funds held at the settlement bank for customer balances"),
    "settlement": (AccountType.ASSET, "Amounts due from networks and acquirers"),
    "fees": (AccountType.REVENUE, "Fees earned"),
    "suspense": (AccountType.LIABILITY, "Unmatched or unexplained amounts awaiting investigation"),
    "payouts_in_transit": (AccountType.LIABILITY, "Payouts sent, not yet confirmed by the rail"),
    "chargebacks": (AccountType.EXPENSE, "Chargebacks and write-offs"),
    "equity": (AccountType.EQUITY, "Owner's capital and opening balances"),
}


def _limits(account_type: str, overdraft_limit, max_balance, *, system: bool) -> tuple[int | None, int | None]:
    if overdraft_limit is None and account_type == AccountType.LIABILITY and not system:
        overdraft_limit = 0  # a customer's money: never below zero unless an overdraft is granted
    if overdraft_limit is not None:
        overdraft_limit = require_amount(overdraft_limit, field="overdraft_limit", allow_zero=True)
    if max_balance is not None:
        max_balance = require_amount(max_balance, field="max_balance", allow_zero=True)
    return overdraft_limit, max_balance


def account_open(
    *,
    currency: str,
    type: str,
    owner_ref: str = "",
    name: str = "",
    overdraft_limit: int | None = None,
    max_balance: int | None = None,
) -> AccountDTO:
    """Open an account. Liability accounts (customer money) get a floor of zero by default."""
    require_currency(currency)
    if type not in AccountType.values:
        raise validation.invalid("type", f"Must be one of {', '.join(AccountType.values)}.", "invalid_choice")
    owner_ref = validation.plain_text(owner_ref, "owner_ref", max_length=100, required=False)
    name = validation.plain_text(name, "name", max_length=200, required=False)
    overdraft_limit, max_balance = _limits(type, overdraft_limit, max_balance, system=False)
    account = Account.objects.create(
        currency=currency,
        type=type,
        normal_balance=NORMAL_BALANCE[type],
        owner_ref=owner_ref,
        name=name,
        overdraft_limit=overdraft_limit,
        max_balance=max_balance,
    )
    return account_dto(account)


def system_account(code: str, currency: str) -> AccountDTO:
    """The tenant's system account `code` in `currency`, created the first time it is asked for.

    Concurrent first calls create it once (a unique index on (system_code, currency)).
    """
    if code not in SYSTEM_ACCOUNTS:
        raise validation.invalid("code", f"Must be one of {', '.join(sorted(SYSTEM_ACCOUNTS))}.", "invalid_choice")
    require_currency(currency)
    existing = Account.objects.filter(system_code=code, currency=currency).first()
    if existing is not None:
        return account_dto(existing)
    account_type, label = SYSTEM_ACCOUNTS[code]
    try:
        with transaction.atomic():
            account = Account.objects.create(
                currency=currency,
                type=account_type,
                normal_balance=NORMAL_BALANCE[account_type],
                system_code=code,
                name=f"{label} ({currency})",
            )
    except IntegrityError:
        account = Account.objects.get(system_code=code, currency=currency)
    return account_dto(account)


def account_set_limits(*, account_id: str, overdraft_limit: int | None, max_balance: int | None) -> AccountDTO:
    """Change an account's floor and ceiling; refused if its current balance would break them."""
    with transaction.atomic():
        account = account_row(account_id)
        account = Account.objects.select_for_update().get(pk=account.pk)
        overdraft_limit, max_balance = _limits(account.type, overdraft_limit, max_balance, system=False)
        if overdraft_limit is not None and account.available < -overdraft_limit:
            raise BusinessRuleViolation(
                "The account's available balance is below the requested floor.",
                code="limit_below_balance",
                errors=[FieldError("overdraft_limit", "Below the current available balance.", "limit_below_balance")],
            )
        if max_balance is not None and account.posted > max_balance:
            raise BusinessRuleViolation(
                "The account's balance is above the requested maximum.",
                code="limit_below_balance",
                errors=[FieldError("max_balance", "Below the current balance.", "limit_below_balance")],
            )
        account.overdraft_limit, account.max_balance = overdraft_limit, max_balance
        account.save(update_fields=["overdraft_limit", "max_balance", "updated_at"])
    return account_dto(account)


def _transition(account_id: str, name: str) -> AccountDTO:
    from django_fsm import can_proceed

    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account_row(account_id).pk)
        method = getattr(account, name)
        if not can_proceed(method):
            raise Conflict(f"An account that is {account.status} cannot {name}.", code="invalid_state")
        if name == "close" and (account.posted != 0 or account.held != 0):
            raise BusinessRuleViolation("Only an account with a zero balance and no holds can close.", code="not_empty")
        method()
        account.save(update_fields=["status", "updated_at"])
    return account_dto(account)


def account_freeze(*, account_id: str) -> AccountDTO:
    return _transition(account_id, "freeze")


def account_unfreeze(*, account_id: str) -> AccountDTO:
    return _transition(account_id, "unfreeze")


def account_close(*, account_id: str) -> AccountDTO:
    return _transition(account_id, "close")


def entry_post(
    *,
    external_ref: str,
    postings: list[Line],
    description: str = "",
    metadata: dict | None = None,
    effective_at: datetime | None = None,
) -> EntryDTO:
    """Post a generic balanced entry (>= 2 postings, debits = credits per currency)."""
    external_ref = validation.external_ref(external_ref)
    lines = validation.lines(postings)
    description = validation.description(description)
    metadata = validation.metadata(metadata)
    effective_at = validation.moment(effective_at, "effective_at")
    digest = request_digest(
        kind=EntryKind.STANDARD,
        postings=[[x.account_id, x.direction, x.amount, x.currency] for x in lines],
        description=description,
        metadata=metadata,
        effective_at=effective_at.isoformat() if effective_at else None,
    )
    fields = {line.account_id: f"postings[{i}].account_id" for i, line in reversed(list(enumerate(lines)))}
    return post_entry(
        kind=EntryKind.STANDARD,
        external_ref=external_ref,
        lines=lines,
        description=description,
        metadata=metadata,
        effective_at=effective_at,
        digest=digest,
        fields=fields,
    )


def transfer(
    *,
    external_ref: str,
    debit_account_id: str,
    credit_account_id: str,
    amount: int,
    currency: str,
    description: str = "",
    metadata: dict | None = None,
) -> EntryDTO:
    """Debit one account and credit another by the same amount in one currency.

    A wallet-to-wallet payment debits the payer's wallet and credits the payee's; a cash-in
    debits the float (an asset grows) and credits the wallet (what is owed to the customer grows).
    """
    external_ref = validation.external_ref(external_ref)
    debit_account_id, credit_account_id = validation.two_accounts(
        debit_account_id, "debit_account_id", credit_account_id, "credit_account_id"
    )
    amount = require_amount(amount)
    currency = require_currency(currency)
    description = validation.description(description)
    metadata = validation.metadata(metadata)
    digest = request_digest(
        kind=EntryKind.TRANSFER,
        postings=[[debit_account_id, "debit", amount, currency], [credit_account_id, "credit", amount, currency]],
        description=description,
        metadata=metadata,
        effective_at=None,
    )
    return post_entry(
        kind=EntryKind.TRANSFER,
        external_ref=external_ref,
        lines=[
            Line(debit_account_id, "debit", amount, currency),
            Line(credit_account_id, "credit", amount, currency),
        ],
        description=description,
        metadata=metadata,
        digest=digest,
        fields={debit_account_id: "debit_account_id", credit_account_id: "credit_account_id"},
    )


def entry_reverse(
    *,
    entry_id: str,
    external_ref: str,
    amount: int | None = None,
    description: str = "",
    metadata: dict | None = None,
) -> EntryDTO:
    """Post the opposite of an entry: in full (amount None: whatever is not yet reversed), or in
    part (`amount`, for an entry with one debit and one credit). Σ reversed never exceeds the
    original; a fully reversed entry cannot be reversed again; a reversal is not reversible."""
    external_ref = validation.external_ref(external_ref)
    if amount is not None:
        amount = require_amount(amount)
    description = validation.description(description)
    metadata = validation.metadata(metadata)
    digest = request_digest(
        kind=EntryKind.REVERSAL, entry=entry_id, amount=amount, description=description, metadata=metadata
    )
    with transaction.atomic():
        replay = JournalEntry.objects.filter(external_ref=external_ref).first()
        if replay is not None:
            # A retry is answered before any lock; a reused reference is refused by ledger_apply.
            if replay.request_digest != digest:
                raise Conflict(
                    f"external_ref {external_ref} was already used for a different entry",
                    code="external_ref_reused",
                    errors=[FieldError("external_ref", "Already used for a different entry.", "external_ref_reused")],
                )
            return entry_dto(replay, replayed=True)
        # Lock the original first (then accounts, then the chain: the global lock order), so
        # concurrent partial reversals see each other's totals.
        original = JournalEntry.objects.select_for_update().get(pk=entry_row(entry_id).pk)
        if original.kind == EntryKind.REVERSAL:
            raise BusinessRuleViolation("A reversal cannot itself be reversed.", code="reversal_not_reversible")
        postings = list(Posting.objects.filter(entry_id=original.pk).select_related("account").order_by("line"))
        reversed_so_far = _reversed_amount(original, postings)
        total = postings[0].amount if len(postings) == 2 else None
        if amount is not None and total is None:
            raise BusinessRuleViolation(
                "Only an entry with one debit and one credit can be reversed in part.",
                code="partial_reversal_unsupported",
                errors=[FieldError("amount", "Omit it to reverse the whole entry.", "partial_reversal_unsupported")],
            )
        if total is None:
            if reversed_so_far:
                raise BusinessRuleViolation("The entry is already reversed.", code="already_reversed")
            lines = [_opposite(p, p.amount) for p in postings]
            reversal_amount = None
        else:
            remaining = total - reversed_so_far
            if remaining <= 0:
                raise BusinessRuleViolation("The entry is already reversed.", code="already_reversed")
            reversal_amount = remaining if amount is None else amount
            if reversal_amount > remaining:
                raise BusinessRuleViolation(
                    f"Only {remaining} of {total} remains to reverse.",
                    code="reversal_exceeds_original",
                    errors=[FieldError("amount", f"At most {remaining}.", "reversal_exceeds_original")],
                )
            lines = [_opposite(p, reversal_amount) for p in postings]
        fully = total is None or reversed_so_far + reversal_amount == total

        def reversed_event(applied):
            return [
                (
                    "transaction.reversed",
                    original.public_id,
                    {
                        "entry_id": original.public_id,
                        "reversal_entry_id": applied.public_id,
                        "external_ref": external_ref,
                        "amount": reversal_amount,
                        "full": amount is None,
                        "fully_reversed": fully,
                    },
                )
            ]

        return post_entry(
            kind=EntryKind.REVERSAL,
            external_ref=external_ref,
            lines=lines,
            description=description or f"Reversal of {original.public_id}",
            metadata=metadata,
            reverses=(original.pk, original.public_id),
            digest=digest,
            extra_events=reversed_event,
        )


def _opposite(posting: Posting, amount: int) -> Line:
    direction = "credit" if posting.direction == "D" else "debit"
    return Line(posting.account.public_id, direction, amount, posting.currency)


def _reversed_amount(original: JournalEntry, postings: list[Posting]) -> int:
    """How much of the original's first line its reversals have already given back."""
    first = postings[0]
    return (
        Posting.objects.filter(entry__reverses_id=original.pk, account_id=first.account_id, line=1).aggregate(
            total=Sum("amount")
        )["total"]
        or 0
    )
