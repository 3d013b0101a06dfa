"""The one definition of a record's hash, shared by writing (services) and checking (verify)."""

import hashlib
import json
from typing import Any

GENESIS_HASH = "0" * 64

# The hashed fields, in no particular order: the canonical form sorts keys. Changing this list
# breaks every existing chain, so it never changes without a versioned migration of the trail.
HASHED_FIELDS = (
    "public_id",
    "occurred_at",
    "actor",
    "tenant",
    "action",
    "target_type",
    "target_id",
    "reason",
    "before",
    "after",
    "request_id",
    "prev_hash",
)


def canonical_json(record: Any) -> str:
    """The record's hashed fields as compact, key-sorted JSON (an AuditRecord or any object with them)."""
    values = {name: getattr(record, name) for name in HASHED_FIELDS}
    values["occurred_at"] = values["occurred_at"].isoformat()
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def record_hash(record: Any) -> str:
    """sha256(prev_hash + canonical_json(record)), hex."""
    return hashlib.sha256((record.prev_hash + canonical_json(record)).encode("utf-8")).hexdigest()


def chain_lock_key(schema_name: str) -> int:
    """The advisory lock id of a schema's chain: the first 8 bytes of sha256, as a signed bigint."""
    digest = hashlib.sha256(f"audit:{schema_name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
