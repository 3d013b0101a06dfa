"""Risk flags and the watchlist (writes). A flag blocks the customer's verification while open;
it is cleared only through an approved maker-checker request (clearance.py)."""

from __future__ import annotations

from django.db import transaction

from finfactory.audit.services import audit_record
from finfactory.errors import Conflict, FieldError, NotFound
from finfactory.outbox.publish import publish_many

from . import locks, validation
from .models import Customer, RiskFlag, RiskFlagStatus, WatchlistEntry
from .screening import normalize_name, watchlist_hits

WATCHLIST_FIELDS = ("full_name", "list_name", "note", "active")


def screen_customer(customer: Customer, *, actor: str | None = None) -> list[RiskFlag]:
    """Screen the customer's name against the active watchlist; flag each new hit.

    Run inside the caller's transaction (which should hold the customer's KYC case lock): one
    `risk.flagged` event and one audit record per new flag. An entry that flagged this customer
    before — open or cleared — does not flag them again.
    """
    hits = watchlist_hits(f"{customer.first_name} {customer.last_name}")
    if not hits:
        return []
    flags = []
    for hit in hits:
        flag, created = RiskFlag.objects.get_or_create(
            customer=customer, watchlist_entry_id=hit.entry_pk, defaults={"score": hit.score}
        )
        if created:
            flags.append((flag, hit))
    if not flags:
        return []
    publish_many(
        [
            (
                "risk.flagged",
                customer.public_id,
                {
                    "customer_id": customer.public_id,
                    "flag_id": flag.public_id,
                    "source": "watchlist",
                    "watchlist_entry_id": hit.entry_id,
                    "score": hit.score,
                },
            )
            for flag, hit in flags
        ]
    )
    for flag, hit in flags:
        audit_record(
            action="risk.flagged",
            target_type="risk_flag",
            target_id=flag.public_id,
            after={"status": flag.status, "customer_id": customer.public_id, "watchlist_entry_id": hit.entry_id,
                   "score": hit.score},
            actor=actor,
        )  # fmt: skip
    return [flag for flag, _ in flags]


def risk_flag_row(flag_id: object, *, lock: bool = False) -> RiskFlag:
    flag_id = validation.public_id(flag_id, "flag_id", "rsk")
    queryset = RiskFlag.objects.select_related("customer")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    flag = queryset.filter(public_id=flag_id).first()
    if flag is None:
        raise NotFound(
            "No such risk flag.", code="risk_flag_not_found", errors=[FieldError("flag_id", "No such flag.")]
        )
    return flag


def require_open(flag: RiskFlag) -> None:
    if flag.status != RiskFlagStatus.OPEN:
        raise Conflict(
            f"The flag is {flag.status}; only open flags can be cleared.",
            code="risk_flag_not_open",
            errors=[FieldError("flag_id", "The flag is not open.", "risk_flag_not_open")],
        )


def risk_flag_clear(*, flag_id: str, by: str, approval_id: str) -> RiskFlag:
    """Clear an open flag (the approved request's handler calls this). Conflict risk_flag_not_open."""
    with transaction.atomic():
        locks.audit_chain()
        flag = risk_flag_row(flag_id, lock=True)
        require_open(flag)
        flag.clear(by=by)
        flag.clearance_approval_id = approval_id
        flag.save(update_fields=["status", "cleared_by", "cleared_at", "clearance_approval_id"])
        audit_record(
            action="risk.cleared",
            target_type="risk_flag",
            target_id=flag.public_id,
            before={"status": RiskFlagStatus.OPEN},
            after={"status": flag.status, "approval_id": approval_id},
            actor=by,
        )
    return flag


def watchlist_entry_save(
    *, entry: WatchlistEntry, full_name: object, list_name: object, note: object, active: object, actor: str
) -> WatchlistEntry:
    """Create (entry without pk) or change a watchlist entry; audited by field name, not value."""
    full_name = validation.text(full_name, "full_name", max_length=200)
    normalized = normalize_name(full_name)
    if not normalized:
        raise validation.invalid("full_name", "Must contain letters or digits.", "invalid_name")
    values = {
        "full_name": full_name,
        "list_name": validation.text(list_name, "list_name", max_length=100),
        "note": validation.text(note, "note", max_length=2000, required=False),
        "active": bool(active),
    }
    with transaction.atomic():
        locks.audit_chain()
        created = entry.pk is None
        if created:
            changed = list(WATCHLIST_FIELDS)
            before = None
        else:
            current = WatchlistEntry.objects.select_for_update().get(pk=entry.pk)
            changed = [name for name in WATCHLIST_FIELDS if getattr(current, name) != values[name]]
            before = {"active": current.active, "list_name": current.list_name}
        for name, value in values.items():
            setattr(entry, name, value)
        entry.normalized_name = normalized
        entry.save()
        audit_record(
            action="watchlist.entry_created" if created else "watchlist.entry_changed",
            target_type="watchlist_entry",
            target_id=entry.public_id,
            before=before,
            after={"active": entry.active, "list_name": entry.list_name, "changed_fields": changed},
            actor=actor,
        )
    return entry
