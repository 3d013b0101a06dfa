"""Sealing: linking posted entries into the tenant's chain, seconds after they commit.

`ledger_post()` queues each entry it writes (`ledger_unsealedentry`, in the entry's
transaction). `chain_seal()` takes the queue in id order and gives each entry a seal:
`hash = sha256(previous seal's hash + entry hash)`, under the chain head's row lock, so one
sealer runs at a time and postings never wait on the chain (docs/adr/0012). The beat task
`contexts.ledger.tasks.seal_chains` runs it in every tenant every `LEDGER_SEAL_SECONDS`.
"""

from __future__ import annotations

from django.db import connection, transaction

BATCH = 5000


def chain_seal(*, limit: int | None = None) -> int:
    """Seal what awaits sealing in the current tenant (at most `limit` entries); returns how many."""
    sealed = 0
    while limit is None or sealed < limit:
        batch = BATCH if limit is None else min(BATCH, limit - sealed)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT ledger_seal(%s)", [batch])
            (count,) = cursor.fetchone()
        sealed += count
        if count < batch:
            break
    return sealed


def unsealed_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM ledger_unsealedentry")
        return cursor.fetchone()[0]
