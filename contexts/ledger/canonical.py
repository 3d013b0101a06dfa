"""The one definition of the ledger's hashes and of a request's digest.

`ledger_post()` (SQL, migration 0002) computes the hashes while it posts; `ledger_verify`
re-computes them here from the stored rows. The two must agree byte for byte, so the forms are
deliberately simple: a version tag, then each field as `<length>:<value>;` (lengths in
characters, so no value can be confused with a delimiter).

- An entry's hash covers its fields and its postings (account, direction, amount, currency) in
  line order. Seconds after it commits, the sealer chains it into the tenant's chain:
  seal hash = sha256(previous seal's hash + entry hash), both 64 hex characters.
- A posting's hash links it into its account's chain: the previous posting's hash (GENESIS_HASH
  for the first), the entry's hash, the line, the account sequence and the balance after. Editing
  an entry or posting, or removing one, breaks a chain; the account row keeps each chain's head.
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
    return sha256_hex(canonical_json(metadata))


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


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def seal_hash(prev_hash: str, entry_hash: str) -> str:
    """An entry's seal in the tenant's chain: sha256(previous seal's hash + the entry's hash)."""
    return sha256_hex(prev_hash + entry_hash)


def posting_hash(*, prev_hash: str, entry_hash: str, line: int, sequence: int, balance_after: int) -> str:
    """A posting's link in its account's chain — what ledger_post() stores in ledger_posting.hash."""
    return sha256_hex(
        "ledger-posting-v1;"
        + _field(prev_hash)
        + _field(entry_hash)
        + _field(str(line))
        + _field(str(sequence))
        + _field(str(balance_after))
    )


def request_digest(**fields) -> str:
    """Fingerprint of what a caller asked for, to tell a retry from a reused reference."""
    return sha256_hex(canonical_json(fields))
