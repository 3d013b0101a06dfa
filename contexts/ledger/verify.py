"""Proving the current tenant's ledger: every hash and seal, every entry, every balance.

Everything is recomputed from the stored rows, independently of the write path: the hashes in
Python (canonical.py) rather than by the SQL that wrote them, balances by summing history (the
one place that does). Constant memory: entries and postings are read in keyset batches, sums are
done by PostgreSQL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.db import connection

from . import canonical

BATCH = 5000
MAX_LISTED = 20


@dataclass
class LedgerReport:
    entries_checked: int = 0
    accounts_checked: int = 0
    postings_checked: int = 0
    links_checked: int = 0
    entries_sealed: int = 0
    awaiting_seal: int = 0
    chain_head_seq: int = 0
    trial_balance: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, problem: str) -> None:
        if len(self.problems) < MAX_LISTED * 10:
            self.problems.append(problem)


_ENTRIES = """
SELECT e.id, e.public_id, e.external_ref, e.kind, e.description, e.metadata, e.effective_at,
       e.posted_at, r.public_id, h.public_id, e.hash,
       (SELECT coalesce(json_agg(json_build_array(a.public_id, p.direction, p.amount, p.currency) ORDER BY p.line),
                        '[]'::json)
          FROM ledger_posting p JOIN ledger_account a ON a.id = p.account_id WHERE p.entry_id = e.id)
  FROM ledger_journalentry e
  LEFT JOIN ledger_journalentry r ON r.id = e.reverses_id
  LEFT JOIN ledger_hold h ON h.id = e.hold_id
 WHERE e.id > %s
 ORDER BY e.id
 LIMIT %s
"""


def _verify_entry_hashes(report: LedgerReport, cursor) -> None:
    """Each entry against the hash of its fields and postings."""
    last_id = 0
    while True:
        cursor.execute(_ENTRIES, [last_id, BATCH])
        rows = cursor.fetchall()
        if not rows:
            return
        for row in rows:
            (row_id, public_id, ref, kind, description, metadata, effective_at, posted_at, reverses, hold) = row[:10]
            hash_, postings = row[10:]
            report.entries_checked += 1
            if isinstance(metadata, str):  # Django leaves jsonb undecoded for JSONField
                metadata = json.loads(metadata)
            text = canonical.entry_canonical(
                public_id=public_id, external_ref=ref, kind=kind, description=description, metadata=metadata,
                effective_at=effective_at, posted_at=posted_at, reverses=reverses, hold=hold,
                postings=[tuple(p) for p in postings],
            )  # fmt: skip
            if canonical.sha256_hex(text) != hash_:
                report.add(f"entry {public_id} does not match its hash (altered entry or postings)")
            last_id = row_id


_SEALS = """
SELECT s.seq, s.prev_hash, s.hash, e.public_id, e.hash
  FROM ledger_entryseal s LEFT JOIN ledger_journalentry e ON e.id = s.entry_id
 WHERE s.seq > %s
 ORDER BY s.seq
 LIMIT %s
"""


def _verify_seals(report: LedgerReport, cursor) -> None:
    """The tenant's chain of seals, in order, against the entries' hashes and the chain head; and
    every entry either sealed or waiting in the sealer's queue."""
    expected_prev, last_seq = canonical.GENESIS_HASH, 0
    while True:
        cursor.execute(_SEALS, [last_seq, BATCH])
        rows = cursor.fetchall()
        if not rows:
            break
        for seq, prev, hash_, entry_id, entry_hash in rows:
            report.entries_sealed += 1
            if seq != last_seq + 1:
                report.add(f"chain: seals #{last_seq + 1}..#{seq - 1} are missing")
            if prev != expected_prev:
                report.add(f"chain: seal #{seq} does not follow the previous seal (a seal removed or inserted)")
            if entry_id is None:
                report.add(f"chain: seal #{seq} belongs to an entry that no longer exists")
            elif canonical.seal_hash(prev, entry_hash) != hash_:
                report.add(f"chain: seal #{seq} does not match entry {entry_id}'s hash (entry altered after sealing)")
            expected_prev, last_seq = hash_, seq
    cursor.execute("SELECT seq, hash FROM ledger_chainhead WHERE id = 1")
    head = cursor.fetchone() or (0, canonical.GENESIS_HASH)
    report.chain_head_seq = head[0]
    if tuple(head) != (last_seq, expected_prev):
        report.add(f"chain: the head records seal #{head[0]} but the chain ends at #{last_seq} (seals removed?)")
    cursor.execute("SELECT count(*) FROM ledger_unsealedentry")
    report.awaiting_seal = cursor.fetchone()[0]
    cursor.execute(
        """
        SELECT e.public_id FROM ledger_journalentry e
         WHERE NOT EXISTS (SELECT 1 FROM ledger_entryseal s WHERE s.entry_id = e.id)
           AND NOT EXISTS (SELECT 1 FROM ledger_unsealedentry u WHERE u.entry_id = e.id)
         ORDER BY e.id LIMIT %s
        """,
        [MAX_LISTED],
    )
    for (public_id,) in cursor.fetchall():
        report.add(f"chain: entry {public_id} is neither sealed nor awaiting its seal")


_LINKS = """
SELECT p.account_id, a.public_id, a.last_hash, p.sequence, p.line, p.balance_after, p.hash, e.public_id, e.hash
  FROM ledger_posting p
  JOIN ledger_account a ON a.id = p.account_id
  LEFT JOIN ledger_journalentry e ON e.id = p.entry_id
 WHERE (p.account_id, p.sequence) > (%s, %s)
 ORDER BY p.account_id, p.sequence
 LIMIT %s
"""


def _verify_account_chains(report: LedgerReport, cursor) -> None:
    """Each account's postings, in sequence order, against their links; the account row against
    the last link. A link is checked against the previous posting's stored hash, so one altered
    row is reported once and the rest of the chain is still checked."""
    position = (0, 0)
    account = None  # (id, public id, stored head, last link seen)

    def close(current) -> None:
        if current is not None and current[2] != current[3]:
            report.add(
                f"chain: {current[1]} records a head that is not its last posting's hash"
                " (postings removed from the end?)"
            )

    while True:
        cursor.execute(_LINKS, [*position, BATCH])
        rows = cursor.fetchall()
        if not rows:
            break
        for account_id, public_id, head, sequence, line, balance_after, hash_, entry_id, entry_hash in rows:
            if account is None or account[0] != account_id:
                close(account)
                account = [account_id, public_id, head, canonical.GENESIS_HASH]
            report.links_checked += 1
            if entry_id is None:
                report.add(f"chain: {public_id} posting #{sequence} belongs to an entry that no longer exists")
            expected = canonical.posting_hash(
                prev_hash=account[3], entry_hash=entry_hash or "", line=line, sequence=sequence,
                balance_after=balance_after,
            )  # fmt: skip
            if hash_ != expected:
                report.add(
                    f"chain: {public_id} posting #{sequence} does not match its link"
                    " (altered posting or entry, or a posting before it removed)"
                )
            account[3] = hash_
            position = (account_id, sequence)
    close(account)
    cursor.execute(
        """
        SELECT a.public_id FROM ledger_account a
         WHERE a.last_hash <> %s AND NOT EXISTS (SELECT 1 FROM ledger_posting p WHERE p.account_id = a.id)
         ORDER BY a.id LIMIT %s
        """,
        [canonical.GENESIS_HASH, MAX_LISTED],
    )
    for (public_id,) in cursor.fetchall():
        report.add(f"chain: {public_id} records a head but has no postings (postings removed?)")


def _verify_entries(report: LedgerReport, cursor) -> None:
    cursor.execute(
        """
        SELECT e.public_id, count(p.id)
          FROM ledger_journalentry e LEFT JOIN ledger_posting p ON p.entry_id = e.id
         GROUP BY e.id HAVING count(p.id) < 2 ORDER BY e.id LIMIT %s
        """,
        [MAX_LISTED],
    )
    for public_id, count in cursor.fetchall():
        report.add(f"entry {public_id} has {count} posting(s); at least 2 are required")
    cursor.execute(
        """
        SELECT e.public_id, p.currency, sum(CASE WHEN p.direction = 'D' THEN p.amount ELSE -p.amount END)
          FROM ledger_posting p JOIN ledger_journalentry e ON e.id = p.entry_id
         GROUP BY e.id, e.public_id, p.currency
        HAVING sum(CASE WHEN p.direction = 'D' THEN p.amount ELSE -p.amount END) <> 0
         ORDER BY e.id LIMIT %s
        """,
        [MAX_LISTED],
    )
    for public_id, currency, difference in cursor.fetchall():
        report.add(f"entry {public_id} is unbalanced in {currency}: debits - credits = {difference}")


def _verify_accounts(report: LedgerReport, cursor) -> None:
    cursor.execute(
        """
        SELECT a.public_id, a.currency, a.normal_balance, a.posted, a.held, a.last_sequence, a.overdraft_limit,
               a.max_balance, coalesce(s.debits_minus_credits, 0), coalesce(s.n, 0), coalesce(s.max_seq, 0),
               coalesce(h.active_held, 0)
          FROM ledger_account a
          LEFT JOIN (SELECT account_id, sum(CASE WHEN direction = 'D' THEN amount ELSE -amount END)
                            AS debits_minus_credits, count(*) AS n, max(sequence) AS max_seq
                       FROM ledger_posting GROUP BY account_id) s ON s.account_id = a.id
          LEFT JOIN (SELECT account_id, sum(amount) AS active_held FROM ledger_hold
                      WHERE status = 'active' GROUP BY account_id) h ON h.account_id = a.id
         ORDER BY a.id
        """
    )
    trial: dict[str, int] = {}
    for (
        public_id,
        currency,
        normal,
        posted,
        held,
        last_seq,
        overdraft,
        max_balance,
        net,
        n,
        max_seq,
        active_held,
    ) in cursor:
        report.accounts_checked += 1
        report.postings_checked += n
        recomputed = net if normal == "debit" else -net
        signed_posted = posted if normal == "debit" else -posted
        trial[currency] = trial.get(currency, 0) + signed_posted
        if recomputed != posted:
            report.add(f"balance: {public_id} stores {posted} but its postings sum to {recomputed}")
        if not (n == last_seq == max_seq):
            report.add(f"sequence: {public_id} has {n} postings, last_sequence {last_seq}, highest {max_seq}")
        if held != active_held:
            report.add(f"held: {public_id} stores {held} held but its active holds total {active_held}")
        if overdraft is not None and posted - held < -overdraft:
            report.add(f"floor: {public_id} available {posted - held} is below -{overdraft}")
        if max_balance is not None and posted > max_balance:
            report.add(f"ceiling: {public_id} posted {posted} is above {max_balance}")
    report.trial_balance = trial
    for currency, total in sorted(trial.items()):
        if total:
            report.add(f"trial balance: {currency} debit-normal - credit-normal balances = {total}, not 0")


def _verify_running_balances(report: LedgerReport, cursor) -> None:
    cursor.execute(
        """
        SELECT a.public_id, r.sequence, r.balance_after, r.running
          FROM (SELECT p.account_id, p.sequence, p.balance_after,
                       sum(CASE WHEN (p.direction = 'D') = (a.normal_balance = 'debit')
                                THEN p.amount ELSE -p.amount END)
                           OVER (PARTITION BY p.account_id ORDER BY p.sequence) AS running
                  FROM ledger_posting p JOIN ledger_account a ON a.id = p.account_id) r
          JOIN ledger_account a ON a.id = r.account_id
         WHERE r.balance_after <> r.running
         ORDER BY a.id, r.sequence LIMIT %s
        """,
        [MAX_LISTED],
    )
    for public_id, sequence, stored, running in cursor.fetchall():
        report.add(f"statement: {public_id} posting #{sequence} says balance_after {stored}, history gives {running}")


def ledger_verify() -> LedgerReport:
    """Check the current tenant's ledger; `report.ok` is False on any discrepancy."""
    report = LedgerReport()
    with connection.cursor() as cursor:
        _verify_entry_hashes(report, cursor)
        _verify_seals(report, cursor)
        _verify_account_chains(report, cursor)
        _verify_entries(report, cursor)
        _verify_accounts(report, cursor)
        _verify_running_balances(report, cursor)
    return report
