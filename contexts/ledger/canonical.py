"""The one definition of an entry's canonical form, its chain hash and a request's digest.

`ledger_post()` (SQL, migration 0002) builds the canonical form while it posts; `ledger_verify`
re-builds it here from the stored rows. The two must agree byte for byte, so the form is
deliberately simple: a version tag, then each field as `<length>:<value>;` (lengths in
characters, so no value can be confused with a delimiter), postings in line order. Derived values
(balance_after, per-account sequences) are not hashed; `ledger_verify` re-derives them.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

GENESIS_HASH = "0" * 64
VERSION_TAG = "ledger-entry-v1;"


def _field(value: str) -> str:
    return f"{len(value)}:{value};"


def timestamp(value: datetime) -> str:
    """What SQL's ledger_timestamp() prints: UTC, microseconds, a Z."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def metadata_digest(metadata: dict) -> str:
    return hashlib.sha256(canonical_json(metadata).encode("utf-8")).hexdigest()


def entry_canonical(
    *,
    public_id: str,
    external_ref: str,
    kind: str,
    description: str,
    metadata: dict,
    effective_at: datetime,
    posted_at: datetime,
    reverses: str | None,
    hold: str | None,
    postings: list[tuple[str, str, int, str]],
) -> str:
    """`postings` are (account public id, "D" or "C", amount, currency) in line order."""
    parts = [
        VERSION_TAG,
        _field(public_id),
        _field(external_ref),
        _field(kind),
        _field(description),
        _field(metadata_digest(metadata)),
        _field(timestamp(effective_at)),
        _field(timestamp(posted_at)),
        _field(reverses or ""),
        _field(hold or ""),
    ]
    for account, direction, amount, currency in postings:
        parts += [_field(account), _field(direction), _field(str(amount)), _field(currency)]
    return "".join(parts)


def chain_hash(prev_hash: str, canonical: str) -> str:
    """sha256(previous hash + canonical entry), hex — what ledger_post() stores."""
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def request_digest(**fields) -> str:
    """Fingerprint of what a caller asked for, to tell a retry from a reused reference."""
    return hashlib.sha256(canonical_json(fields).encode("utf-8")).hexdigest()
