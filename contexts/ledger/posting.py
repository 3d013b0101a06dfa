"""The write path every money movement takes: one statement, `ledger_post()` (migration 0002).

It writes the entry (with its content hash), then locks the accounts in id order under
`lock_timeout`, checks every rule, writes the postings (each a link in its account's hash chain)
and balances, and publishes the events to the outbox (journal.posted, balance.updated per
account, and the caller's own). Python prepares the ids and event slots and turns database
refusals into platform errors.

A reused reference with the same request returns the first entry (no second effect, no events).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, connection, transaction

from finfactory.errors import (
    BusinessRuleViolation,
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    PlatformError,
    RetryableError,
)
from finfactory.events.catalog import validate_payload
from finfactory.ids import new_id
from finfactory.outbox.publish import event_context, event_slot, wake_after_commit

from . import canonical
from .dtos import EntryDTO, Line, PostingDTO
from .models import JournalEntry
from .selectors import entry_get_by_pk

_STATUS_ERRORS = {"FF404": NotFound, "FF409": Conflict, "FF422": BusinessRuleViolation, "FF403": Forbidden}
_RETRYABLE = {
    "55P03": "The account is busy (lock timeout); retry shortly.",
    "40P01": "The ledger was contended (deadlock); retry.",
    "40001": "The ledger was contended (serialization); retry.",
}


def _lock_timeout() -> str:
    return f"{int(getattr(settings, 'LEDGER_LOCK_TIMEOUT_MS', 2000))}ms"


def translate_database_error(exc: DatabaseError, fields: dict[str, str] | None = None) -> PlatformError | None:
    """The platform error for a database refusal raised by the ledger, None if it is not one."""
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None) or ""
    diag = getattr(cause, "diag", None)
    if sqlstate in _RETRYABLE:
        return RetryableError(_RETRYABLE[sqlstate], code="ledger_busy", retry_after=1)
    if sqlstate == "23514":  # a CHECK constraint: the rule checks in SQL should have said so first
        return BusinessRuleViolation("The change would break an account constraint.", code="constraint_violation")
    error_class = _STATUS_ERRORS.get(sqlstate)
    if error_class is None or diag is None:
        return None
    code = diag.message_detail or error_class.code
    subject = diag.message_hint or ""
    field = (fields or {}).get(subject, subject if not subject.startswith("acc_") else "account_id")
    errors = [FieldError(field, diag.message_primary or code, code)] if field else []
    extra = {"account_id": subject} if subject.startswith("acc_") else {}
    return error_class(diag.message_primary, code=code, errors=errors, **extra)


@dataclass(frozen=True)
class Applied:
    """What ledger_post() did, for callers that publish events about it."""

    public_id: str


ExtraEvents = Callable[[Applied], Sequence[tuple[str, str, dict]]]


def post_entry(
    *,
    kind: str,
    external_ref: str,
    lines: list[Line],
    description: str = "",
    metadata: dict | None = None,
    effective_at: datetime | None = None,
    reverses: tuple[int, str] | None = None,
    hold: tuple[int, str] | None = None,
    release: tuple[str, int] | None = None,
    digest: str,
    fields: dict[str, str] | None = None,
    extra_events: ExtraEvents | None = None,
) -> EntryDTO:
    """Post a validated, balanced entry with one statement (see the module docstring).

    `reverses` and `hold` are (row id, public id); `release` is (account public id, amount) of a
    hold being captured; `extra_events` are published with the entry (validated here).
    Inside a caller's transaction the statement runs in a savepoint, so a refusal leaves the
    caller's transaction usable; otherwise the statement is its own transaction.
    """
    metadata = metadata or {}
    kind = str(kind.value if hasattr(kind, "value") else kind)
    applied = Applied(public_id=new_id("jrn"))
    extras = []
    for type, aggregate_id, data in extra_events(applied) if extra_events else ():
        validate_payload(type, data)
        extras.append({**event_slot(type, aggregate_id), "data": data})
    events = {
        **event_context(),
        "journal": event_slot("journal.posted", applied.public_id),
        "balances": {
            account: event_slot("balance.updated", account)
            for account in {line.account_id for line in lines} | ({release[0]} if release else set())
        },
        "extra": extras,
    }
    params = [
        applied.public_id, external_ref, digest, kind, description, json.dumps(metadata),
        canonical.metadata_digest(metadata), effective_at,
        reverses[0] if reverses else None, reverses[1] if reverses else None,
        hold[0] if hold else None, hold[1] if hold else None,
        [line.account_id for line in lines], [line.direction == "debit" for line in lines],
        [line.amount for line in lines], [line.currency for line in lines],
        release[0] if release else None, release[1] if release else None, _lock_timeout(), json.dumps(events),
    ]  # fmt: skip
    try:
        if connection.in_atomic_block:
            with transaction.atomic():
                result = _execute(params)
        else:
            result = _execute(params)
    except DatabaseError as exc:
        if _is_reference_race(exc):
            # A twin with the same reference on other accounts committed first: answer as a retry.
            existing = JournalEntry.objects.filter(external_ref=external_ref).first()
            if existing is not None and existing.request_digest == digest:
                return entry_get_by_pk(existing.pk, replayed=True)
            raise Conflict(
                f"external_ref {external_ref} was already used for a different entry",
                code="external_ref_reused",
                errors=[FieldError("external_ref", "Already used for a different entry.", "external_ref_reused")],
            ) from exc
        error = translate_database_error(exc, fields)
        if error is None:
            raise
        raise error from exc
    if result["replayed"]:
        return entry_get_by_pk(result["entry_id"], replayed=True)
    wake_after_commit()
    posted_at = datetime.fromisoformat(result["posted_at"])
    applied_at = datetime.fromisoformat(result["applied_at"])
    return EntryDTO(
        id=applied.public_id,
        external_ref=external_ref,
        kind=kind,
        description=description,
        metadata=metadata,
        effective_at=datetime.fromisoformat(result["effective_at"]),
        posted_at=posted_at,
        reverses_id=reverses[1] if reverses else None,
        hold_id=hold[1] if hold else None,
        postings=tuple(
            PostingDTO(
                entry_id=applied.public_id,
                line=index,
                account_id=line.account_id,
                direction=line.direction,
                amount=line.amount,
                currency=line.currency,
                sequence=state["sequence"],
                balance_after=state["balance_after"],
                posted_at=applied_at,
            )
            for index, (line, state) in enumerate(zip(lines, result["lines"], strict=True), start=1)
        ),
        hash=result["hash"],
    )


_POST = (
    "SELECT ledger_post(%s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s, %s, %s::text[], %s::boolean[],"
    " %s::bigint[], %s::text[], %s, %s, %s, %s::jsonb)"
)


def _execute(params) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(_POST, params)
        result = cursor.fetchone()[0]
    return json.loads(result) if isinstance(result, str) else result


def _is_reference_race(exc: DatabaseError) -> bool:
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) == "23505" and "external_ref" in str(
        getattr(getattr(cause, "diag", None), "constraint_name", "") or ""
    )


def balance_event(account: dict, cause: str, cause_id: str) -> tuple[str, str, dict]:
    """balance.updated for an account state (id, owner_ref, currency, posted, held, sequence)."""
    return (
        "balance.updated",
        account["id"],
        {
            "account_id": account["id"],
            "owner_ref": account["owner_ref"],
            "currency": account["currency"],
            "posted": account["posted"],
            "held": account["held"],
            "available": account["posted"] - account["held"],
            "sequence": account["sequence"],
            "cause": cause,
            "cause_id": cause_id,
        },
    )
