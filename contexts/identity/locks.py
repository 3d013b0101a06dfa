"""Every lock identity takes, in the one order all of its transactions follow:

    1. the tenant's audit-chain lock       (every identity write: each is audited)
    2. a KYC case row                       (FOR UPDATE: submissions, decisions, expiry, release)
    3. an ID number's advisory lock         (submissions: one document, one customer)
    4. a risk flag or watchlist entry row   (FOR UPDATE: clearance, watchlist edits)

Why the audit lock comes first although the kernel advises recording at the end: the kernel runs
code under that lock — an approved back-office action (our flag clearance: flag, then case) runs
after `approval.approved` is recorded. If our writes took row locks first and the audit lock
last, that path (audit → rows) and ours (rows → audit) could deadlock. Identity's writes are a
handful of short statements with no network call inside, and every audited write of the tenant
waits for that lock until commit anyway, so taking it first costs little.
"""

from __future__ import annotations

import hashlib

from django.db import connection

from finfactory.audit.services import audit_lock

from .models import KycCase


def audit_chain() -> None:
    """The lock audit_record() takes anyway, taken at the start of the write (re-entrant)."""
    audit_lock()


def case(*, customer_pk: int | None = None, case_pk: int | None = None) -> KycCase:
    """The KYC case row, locked until commit (its customer and current submission read along)."""
    queryset = KycCase.objects.select_for_update(of=("self",)).select_related("customer", "current_submission")
    return queryset.get(customer_id=customer_pk) if customer_pk is not None else queryset.get(pk=case_pk)


def id_number(index: str) -> None:
    """Serializes, per ID number (its blind index), checking that no other customer uses it."""
    raw = hashlib.sha256(f"identity:id_number:{connection.schema_name}:{index}".encode()).digest()[:8]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(raw, "big", signed=True)])
