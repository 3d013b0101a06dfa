"""Checking the current schema's audit chain."""

from dataclasses import dataclass

from finfactory.audit.chain import GENESIS_HASH, record_hash
from finfactory.audit.models import AuditRecord


@dataclass(frozen=True)
class ChainReport:
    records_checked: int
    ok: bool
    first_broken_id: int | None = None
    first_broken_public_id: str | None = None
    problem: str = ""


def audit_chain_verify() -> ChainReport:
    """Walk the chain in id order in constant memory; report the first record that does not fit.

    A record is broken when its prev_hash is not the previous record's hash (a record before it
    was removed, inserted or reordered) or its own hash does not recompute (it was altered).
    Removing records from the end leaves a valid shorter chain: only an anchor kept elsewhere
    (a published head hash) detects that.
    """
    expected_prev = GENESIS_HASH
    checked = 0
    for record in AuditRecord.objects.order_by("id").iterator(chunk_size=2000):
        checked += 1
        problem = ""
        if record.prev_hash != expected_prev:
            problem = "prev_hash does not match the previous record's hash (a record was removed or inserted)"
        elif record_hash(record) != record.hash:
            problem = "hash does not match the record's contents (the record was altered)"
        if problem:
            return ChainReport(
                records_checked=checked,
                ok=False,
                first_broken_id=record.id,
                first_broken_public_id=record.public_id,
                problem=problem,
            )
        expected_prev = record.hash
    return ChainReport(records_checked=checked, ok=True)
