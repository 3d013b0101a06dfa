"""Every lock qrph takes, in the one order all of its transactions follow:

    1. the tenant's audit-chain lock            (every audited write; re-entrant)
    2. the caller reference's advisory lock     (qr_payment_initiate: one request per reference)
    3. the code's advisory lock, by payload     (a dynamic code: one payment at a time)
    4. a payment row, FOR UPDATE                (transitions)

The audit lock comes first for the reason wallets' locks.py gives (docs/adr/0014): kernel paths
run code under it, so taking it after row locks could deadlock against them.
"""

from __future__ import annotations

import hashlib

from django.db import connection

from finfactory.audit.services import audit_lock


def _advisory(namespace: str, key: str) -> None:
    raw = hashlib.sha256(f"qrph:{namespace}:{connection.schema_name}:{key}".encode()).digest()[:8]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(raw, "big", signed=True)])


def audit_chain() -> None:
    audit_lock()


def reference(value: str) -> None:
    _advisory("reference", value)


def code(payload_digest: str) -> None:
    _advisory("code", payload_digest)
