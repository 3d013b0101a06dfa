"""Writing the audit trail."""

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from finfactory.audit.chain import GENESIS_HASH, chain_lock_key, record_hash
from finfactory.audit.models import AuditRecord
from finfactory.ids import new_id
from finfactory.request_context import current_actor, current_request_id


def _as_json_text(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)


def audit_lock() -> None:
    """Take the current schema's audit-chain lock now; it is held until the transaction ends.

    audit_record() takes it anyway. A unit of work that also locks rows calls this first, so its
    order (audit chain, then rows) is the order of the kernel's own paths that run code under the
    lock — an approved back-office action, a batch of outbox deliveries — and the two cannot
    deadlock. Re-entrant within a transaction.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [chain_lock_key(connection.schema_name)])


def audit_record(
    *,
    action: str,
    target_type: str,
    target_id: str | int,
    before: Any = None,
    after: Any = None,
    reason: str = "",
    actor: str | None = None,
) -> AuditRecord:
    """Append one record to the current schema's chain and return it.

    Works inside or outside a transaction. Within a tenant, appends are serialized by a
    transaction-level advisory lock that is held until the *outermost* transaction ends: call
    this at the end of your unit of work, after the slow parts, so other writers of the same
    tenant do not queue behind them. The chain relies on READ COMMITTED (Django's default): the
    last hash is read after the lock is granted, which a REPEATABLE READ snapshot would not see.
    """
    schema = connection.schema_name
    with transaction.atomic():
        with connection.cursor() as cursor:
            # One round trip takes the lock and lets PostgreSQL normalize before/after exactly as
            # jsonb will store them (key order, number forms), so what we hash is what a reader
            # of the row gets back and verification never trips over a float or a Decimal.
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s), %s::jsonb::text, %s::jsonb::text",
                [chain_lock_key(schema), _as_json_text(before), _as_json_text(after)],
            )
            _, before_text, after_text = cursor.fetchone()
        # A separate statement: in READ COMMITTED it sees every append committed before the lock.
        prev_hash = AuditRecord.objects.order_by("-id").values_list("hash", flat=True).first()
        record = AuditRecord(
            public_id=new_id("aud"),
            occurred_at=timezone.now(),
            actor=actor or current_actor() or "system:unknown",
            tenant=schema,
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            reason=reason,
            before=None if before_text is None else json.loads(before_text),
            after=None if after_text is None else json.loads(after_text),
            request_id=current_request_id() or "",
            prev_hash=prev_hash or GENESIS_HASH,
        )
        record.hash = record_hash(record)
        record.save(force_insert=True)
    return record
