"""Every lock wallets takes, in the one order all of its transactions follow:

    1. the tenant's audit-chain lock          (audited writes only)
    2. the customer's advisory lock           (wallet_open, KYC news)
    3. the limit policy row                   (share: wallet_open; update: tiers_configure)
    4. wallet rows, by id                     (update: lifecycle, KYC news; share: reservations)
    5. a limit usage row, then a reservation  (reservations and releases)

Why the audit lock comes first although the kernel advises recording at the end: the kernel
itself runs code under that lock — an approved back-office action runs after
`approval.approved` is recorded, and a drain batch delivers several events in one transaction,
so a handler can run after an earlier handler's record. If our writes took their row locks
first and the audit lock last, such a path (audit → rows) and ours (rows → audit) could
deadlock. Taking it first costs little: every audited write of the tenant is serialized on it
until commit anyway, and our audited transactions are a handful of short statements.
Reservations, the hot path, are not audited and never take it.
"""

from __future__ import annotations

import hashlib

from django.db import connection

from finfactory.audit.services import audit_lock


def _advisory(key: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def audit_chain() -> None:
    """The lock audit_record() takes anyway, taken at the start of an audited write (re-entrant)."""
    audit_lock()


def customer(customer_id: str) -> None:
    """Serializes, per customer, opening wallets with applying KYC news, so neither misses the other."""
    raw = hashlib.sha256(f"wallets:customer:{connection.schema_name}:{customer_id}".encode()).digest()[:8]
    _advisory(int.from_bytes(raw, "big", signed=True))


def policy_share() -> None:
    """Opens share the policy row; tiers_configure waits for them (and they for it), so a
    schedule change never drops a currency while a wallet in it is being opened."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM wallets_limitpolicy WHERE id = 1 FOR SHARE")


def wallet_share(wallet_pk: int) -> tuple[str, str, str] | None:
    """(status, currency, kyc_level), the row held in share mode until commit: no lifecycle or
    tier change can commit while a reservation counts against this wallet."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT status, currency, kyc_level FROM wallets_wallet WHERE id = %s FOR SHARE", [wallet_pk])
        return cursor.fetchone()
