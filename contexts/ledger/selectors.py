"""Reads. Balances come from the account row and statements from the postings' stored
balance_after: nothing on these paths sums history."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db import connection
from django.db.models import Max, Min

from finfactory.errors import FieldError, InvalidInput, NotFound
from finfactory.pages import Page, keyset_page

from .dtos import (
    AccountDTO,
    BalanceDTO,
    EntryDTO,
    HoldDTO,
    PostingDTO,
    Statement,
    StatementLine,
    TrialBalanceRow,
)
from .models import Account, Hold, JournalEntry, Posting

DIRECTION_NAMES = {"D": "debit", "C": "credit"}
STATEMENT_BATCH = 1000


def account_dto(account: Account) -> AccountDTO:
    return AccountDTO(
        id=account.public_id,
        currency=account.currency,
        type=account.type,
        normal_balance=account.normal_balance,
        name=account.name,
        owner_ref=account.owner_ref,
        system_code=account.system_code,
        status=account.status,
        overdraft_limit=account.overdraft_limit,
        max_balance=account.max_balance,
        posted=account.posted,
        held=account.held,
        available=account.available,
        last_sequence=account.last_sequence,
        created_at=account.created_at,
    )


def _row(queryset, public_id: str, *, what: str, code: str, field: str):
    """The row with this public id in the current tenant, or 404 `code` naming `field`."""
    try:
        return queryset.get(public_id=public_id)
    except queryset.model.DoesNotExist:
        raise NotFound(
            f"{what} {public_id!r} does not exist",
            code=code,
            errors=[FieldError(field, f"No such {what}.", code)],
        ) from None


def account_row(account_id: str, *, field: str = "account_id") -> Account:
    return _row(Account.objects, account_id, what="ledger account", code="account_not_found", field=field)


def account_get(account_id: str) -> AccountDTO:
    return account_dto(account_row(account_id))


def accounts_list(
    *, owner_ref: str | None = None, currency: str | None = None, limit: int = 20, cursor: str | None = None
) -> Page:
    """Accounts oldest first, a page at a time (a cursor on the row id)."""
    queryset = Account.objects.all()
    if owner_ref is not None:
        queryset = queryset.filter(owner_ref=owner_ref)
    if currency is not None:
        queryset = queryset.filter(currency=currency)
    return keyset_page(queryset, limit=limit, cursor=cursor, kind="acc", item=account_dto, newest_first=False)


def balance_get(account_id: str) -> BalanceDTO:
    account = account_row(account_id)
    return BalanceDTO(
        account_id=account.public_id,
        currency=account.currency,
        posted=account.posted,
        held=account.held,
        available=account.available,
        sequence=account.last_sequence,
    )


def _posting_dto(posting: Posting, entry_public_id: str, account_public_id: str) -> PostingDTO:
    return PostingDTO(
        entry_id=entry_public_id,
        line=posting.line,
        account_id=account_public_id,
        direction=DIRECTION_NAMES[posting.direction],
        amount=posting.amount,
        currency=posting.currency,
        sequence=posting.sequence,
        balance_after=posting.balance_after,
        posted_at=posting.posted_at,
    )


def entry_dto(entry: JournalEntry, *, replayed: bool = False) -> EntryDTO:
    postings = entry.postings.select_related("account").order_by("line")
    return EntryDTO(
        id=entry.public_id,
        external_ref=entry.external_ref,
        kind=entry.kind,
        description=entry.description,
        metadata=entry.metadata,
        effective_at=entry.effective_at,
        posted_at=entry.posted_at,
        reverses_id=entry.reverses.public_id if entry.reverses_id else None,
        hold_id=entry.hold.public_id if entry.hold_id else None,
        postings=tuple(_posting_dto(p, entry.public_id, p.account.public_id) for p in postings),
        hash=entry.hash,
        replayed=replayed,
    )


def entry_get_by_pk(pk: int, *, replayed: bool = False) -> EntryDTO:
    return entry_dto(JournalEntry.objects.select_related("reverses", "hold").get(pk=pk), replayed=replayed)


def entry_row(entry_id: str, *, field: str = "entry_id") -> JournalEntry:
    queryset = JournalEntry.objects.select_related("reverses", "hold")
    return _row(queryset, entry_id, what="journal entry", code="entry_not_found", field=field)


def entry_get(entry_id: str) -> EntryDTO:
    return entry_dto(entry_row(entry_id))


def entries_list(*, limit: int = 50) -> list[EntryDTO]:
    return [entry_dto(e) for e in JournalEntry.objects.select_related("reverses", "hold").order_by("-id")[:limit]]


def hold_dto(hold: Hold, *, replayed: bool = False, capture_entry_id: str | None = None) -> HoldDTO:
    return HoldDTO(
        id=hold.public_id,
        external_ref=hold.external_ref,
        account_id=hold.account.public_id,
        credit_account_id=hold.credit_account.public_id,
        amount=hold.amount,
        currency=hold.currency,
        captured_amount=hold.captured_amount,
        status=hold.status,
        description=hold.description,
        metadata=hold.metadata,
        expires_at=hold.expires_at,
        created_at=hold.created_at,
        finished_at=hold.finished_at,
        capture_entry_id=capture_entry_id,
        replayed=replayed,
    )


def hold_row(hold_id: str, *, field: str = "hold_id") -> Hold:
    queryset = Hold.objects.select_related("account", "credit_account")
    return _row(queryset, hold_id, what="hold", code="hold_not_found", field=field)


def hold_capture_entry_id(hold: Hold) -> str | None:
    return JournalEntry.objects.filter(hold_id=hold.pk).values_list("public_id", flat=True).first()


def hold_get(hold_id: str) -> HoldDTO:
    hold = hold_row(hold_id)
    return hold_dto(hold, capture_entry_id=hold_capture_entry_id(hold))


# Postings, newest first, by a cursor on the account's sequence.


def postings_list(account_id: str, *, limit: int = 20, cursor: str | None = None) -> Page:
    """The account's postings, newest first (a cursor on the account's sequence)."""
    account = account_row(account_id)
    return keyset_page(
        Posting.objects.filter(account_id=account.pk).select_related("entry"),
        limit=limit, cursor=cursor, kind="seq", field="sequence",
        item=lambda posting: _posting_dto(posting, posting.entry.public_id, account.public_id),
    )  # fmt: skip


def account_statement(account_id: str, *, start: datetime, end: datetime) -> Statement:
    """Opening balance at `start`, the postings in [start, end) and the closing balance at `end`.

    Postings are ordered by the account's sequence, and posted_at is non-decreasing along it (it
    is read from the clock after the account lock is taken), so the period is one sequence range.
    """
    if end <= start:
        raise InvalidInput(
            "end must be after start",
            errors=[FieldError("end", "Must be after start.", "invalid_range")],
        )
    account = account_row(account_id)
    postings = Posting.objects.filter(account_id=account.pk)
    before = postings.filter(posted_at__lt=start).order_by("-sequence").values_list("balance_after", flat=True)
    opening = before.first() or 0
    span = postings.filter(posted_at__gte=start, posted_at__lt=end).aggregate(
        first=Min("sequence"), last=Max("sequence")
    )
    if span["first"] is None:
        closing, count = opening, 0
    else:
        closing = postings.get(sequence=span["last"]).balance_after
        count = span["last"] - span["first"] + 1
    return Statement(
        account_id=account.public_id,
        currency=account.currency,
        start=start,
        end=end,
        opening_balance=opening,
        closing_balance=closing,
        line_count=count,
        lines=_statement_lines(account.pk, span["first"], span["last"]),
    )


_STATEMENT_COLUMNS = ("sequence", "entry__public_id", "entry__external_ref", "entry__kind", "entry__description",
                      "direction", "amount", "balance_after", "posted_at", "entry__effective_at")  # fmt: skip


def _statement_lines(account_pk: int, first: int | None, last: int | None) -> Iterator[StatementLine]:
    # Tuples, not model instances: a statement of 100,000 lines builds no ORM objects.
    if first is None:
        return
    cursor = first - 1
    while cursor < last:
        batch = list(
            Posting.objects.filter(account_id=account_pk, sequence__gt=cursor, sequence__lte=last)
            .order_by("sequence")
            .values_list(*_STATEMENT_COLUMNS)[:STATEMENT_BATCH]
        )
        if not batch:
            return
        for sequence, entry_id, external_ref, kind, description, direction, amount, after, posted, effective in batch:
            yield StatementLine(
                sequence=sequence,
                entry_id=entry_id,
                external_ref=external_ref,
                kind=kind,
                description=description,
                direction=DIRECTION_NAMES[direction],
                amount=amount,
                balance_after=after,
                posted_at=posted,
                effective_at=effective,
            )
        cursor = batch[-1][0]


def trial_balance() -> list[TrialBalanceRow]:
    """Per currency: Σ debit-normal balances and Σ credit-normal balances (equal when sound)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT currency,"
            " coalesce(sum(posted) FILTER (WHERE normal_balance = 'debit'), 0),"
            " coalesce(sum(posted) FILTER (WHERE normal_balance = 'credit'), 0), count(*)"
            " FROM ledger_account GROUP BY currency ORDER BY currency"
        )
        return [
            TrialBalanceRow(currency=c, debit_normal_total=int(d), credit_normal_total=int(k), accounts=n)
            for c, d, k, n in cursor.fetchall()
        ]
