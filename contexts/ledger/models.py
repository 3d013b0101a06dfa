"""The ledger's tables. Private to contexts.ledger: other contexts use contexts.ledger.api.

Amounts are integers in minor units. A posting is one line of a journal entry: a debit or a
credit of a positive amount on one account. An account's `posted` balance is kept in the
account's normal orientation (a wallet, a liability, shows a positive balance when the platform
owes the customer money), so that Σ(posted of debit-normal) = Σ(posted of credit-normal) per
currency: the trial balance.

Database guards (migration 0002): journal entries and postings refuse UPDATE, DELETE and
TRUNCATE; CHECK constraints keep every account within its floor and ceiling whatever code path
writes it.

Tamper evidence (canonical.py, verify.py): an entry stores the hash of its content; each posting
stores a link in its account's hash chain (the previous posting's hash, the entry's hash, the
line, sequence and balance after); the account keeps the head. The chain of an account is
extended under the row lock a posting takes anyway, so it adds no point of contention.
"""

from django.db import models
from django.db.models import Q
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMModelMixin, transition

from finfactory.ids import PublicIdField

from .canonical import GENESIS_HASH


class AccountType(models.TextChoices):
    ASSET = "asset", "Asset"
    LIABILITY = "liability", "Liability"
    EQUITY = "equity", "Equity"
    REVENUE = "revenue", "Revenue"
    EXPENSE = "expense", "Expense"


class NormalBalance(models.TextChoices):
    DEBIT = "debit", "Debit"
    CREDIT = "credit", "Credit"


NORMAL_BALANCE = {
    AccountType.ASSET: NormalBalance.DEBIT,
    AccountType.EXPENSE: NormalBalance.DEBIT,
    AccountType.LIABILITY: NormalBalance.CREDIT,
    AccountType.EQUITY: NormalBalance.CREDIT,
    AccountType.REVENUE: NormalBalance.CREDIT,
}


class AccountStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    FROZEN = "frozen", "Frozen"
    CLOSED = "closed", "Closed"


class Account(FSMModelMixin, models.Model):
    # Uniqueness as constraints, not unique=True: no extra LIKE index to maintain on every write.
    public_id = PublicIdField(prefix="acc", unique=False)
    currency = models.CharField(max_length=3)
    type = models.CharField(max_length=10, choices=AccountType.choices)
    normal_balance = models.CharField(max_length=6, choices=NormalBalance.choices)
    name = models.CharField(max_length=200, blank=True)
    owner_ref = models.CharField(
        max_length=100, blank=True, help_text="Public id of the owner in another context, e.g. wal_…"
    )
    system_code = models.CharField(  # noqa: DJ001 - NULL (not "") so the unique index ignores customer accounts
        max_length=40, null=True, blank=True, help_text="Set on the tenant's system accounts (float, fees, …)."
    )
    status = FSMField(max_length=10, choices=AccountStatus.choices, default=AccountStatus.ACTIVE, protected=True)
    overdraft_limit = models.BigIntegerField(
        null=True, blank=True, help_text="Available may not fall below -limit; empty means no floor."
    )
    max_balance = models.BigIntegerField(null=True, blank=True, help_text="Posted may not exceed this; empty: none.")
    posted = models.BigIntegerField(default=0)
    held = models.BigIntegerField(default=0)
    last_sequence = models.BigIntegerField(default=0, help_text="Sequence of the account's latest posting.")
    last_hash = models.CharField(
        max_length=64, default=GENESIS_HASH, help_text="Hash of the account's latest posting: its chain's head."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["owner_ref"], name="ledger_account_owner")]
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="ledger_account_public_id_unique"),
            models.UniqueConstraint(
                fields=["system_code", "currency"],
                condition=Q(system_code__isnull=False),
                name="ledger_system_account_once_per_currency",
            ),
            models.CheckConstraint(
                condition=Q(overdraft_limit__isnull=True)
                | Q(posted__gte=models.F("held") - models.F("overdraft_limit")),
                name="ledger_account_within_floor",
            ),
            models.CheckConstraint(
                condition=Q(max_balance__isnull=True) | Q(posted__lte=models.F("max_balance")),
                name="ledger_account_within_max_balance",
            ),
            models.CheckConstraint(condition=Q(held__gte=0), name="ledger_account_held_not_negative"),
            models.CheckConstraint(
                condition=Q(overdraft_limit__isnull=True) | Q(overdraft_limit__gte=0),
                name="ledger_account_overdraft_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.name or self.system_code or self.type} {self.currency}"

    @property
    def available(self) -> int:
        return self.posted - self.held

    @transition(field=status, source=AccountStatus.ACTIVE, target=AccountStatus.FROZEN)
    def freeze(self) -> None:
        pass

    @transition(field=status, source=AccountStatus.FROZEN, target=AccountStatus.ACTIVE)
    def unfreeze(self) -> None:
        pass

    @transition(field=status, source=[AccountStatus.ACTIVE, AccountStatus.FROZEN], target=AccountStatus.CLOSED)
    def close(self) -> None:
        pass


class EntryKind(models.TextChoices):
    STANDARD = "standard", "Standard"
    TRANSFER = "transfer", "Transfer"
    HOLD_CAPTURE = "hold_capture", "Hold capture"
    REVERSAL = "reversal", "Reversal"


class JournalEntry(models.Model):
    public_id = PublicIdField(prefix="jrn", unique=False)
    external_ref = models.CharField(max_length=200)
    request_digest = models.CharField(max_length=64, help_text="sha256 of the request: a reused reference must match.")
    kind = models.CharField(max_length=16, choices=EntryKind.choices)
    description = models.CharField(max_length=500, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    effective_at = models.DateTimeField()
    posted_at = models.DateTimeField()
    reverses = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversals", db_index=False
    )
    hold = models.ForeignKey("Hold", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False)
    hash = models.CharField(max_length=64, help_text="sha256 of the entry's canonical form (canonical.py).")

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "journal entries"
        # Every index here is paid on every posting: uniqueness as constraints (no LIKE indexes),
        # the two rare foreign keys as partial indexes.
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="ledger_entry_public_id_unique"),
            models.UniqueConstraint(fields=["external_ref"], name="ledger_entry_external_ref_unique"),
        ]
        indexes = [
            models.Index(fields=["reverses"], condition=Q(reverses__isnull=False), name="ledger_entry_reverses"),
            models.Index(fields=["hold"], condition=Q(hold__isnull=False), name="ledger_entry_hold"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.kind} {self.external_ref}"


class Direction(models.TextChoices):
    DEBIT = "D", "Debit"
    CREDIT = "C", "Credit"


class Posting(models.Model):
    # Both foreign keys are served by the unique (entry, line) and (account, sequence) indexes.
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="postings", db_index=False)
    line = models.PositiveSmallIntegerField(help_text="Position within the entry, from 1.")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings", db_index=False)
    direction = models.CharField(max_length=1, choices=Direction.choices)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    sequence = models.BigIntegerField(help_text="Position in the account's history, from 1, without gaps.")
    balance_after = models.BigIntegerField(help_text="The account's posted balance after this posting.")
    hash = models.CharField(max_length=64, help_text="This posting's link in its account's hash chain.")
    posted_at = models.DateTimeField()

    class Meta:
        ordering = ["account_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["account", "sequence"], name="ledger_posting_account_sequence"),
            models.UniqueConstraint(fields=["entry", "line"], name="ledger_posting_entry_line"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_posting_amount_positive"),
        ]
        indexes = [models.Index(fields=["account", "posted_at"], name="ledger_posting_account_time")]

    def __str__(self) -> str:
        return f"{self.entry_id}/{self.line} {self.direction} {self.amount} {self.currency}"


class HoldStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    CAPTURED = "captured", "Captured"
    RELEASED = "released", "Released"
    EXPIRED = "expired", "Expired"


class Hold(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    """Funds reserved on `account` (which capture debits) for `credit_account`.

    Each transition happens at most once: the row is locked, the FSM refuses a second transition
    from a final state, and ConcurrentTransitionMixin refuses a save whose status changed underneath.
    """

    public_id = PublicIdField(prefix="hld")
    external_ref = models.CharField(max_length=200, unique=True)
    request_digest = models.CharField(max_length=64)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="holds")
    credit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    captured_amount = models.BigIntegerField(default=0)
    status = FSMField(max_length=10, choices=HoldStatus.choices, default=HoldStatus.ACTIVE, protected=True)
    description = models.CharField(max_length=500, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_hold_amount_positive"),
            models.CheckConstraint(
                condition=Q(captured_amount__gte=0) & Q(captured_amount__lte=models.F("amount")),
                name="ledger_hold_captured_within_amount",
            ),
        ]
        indexes = [
            models.Index(
                fields=["expires_at"], condition=Q(status=HoldStatus.ACTIVE), name="ledger_hold_active_expiry"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.amount} {self.currency} ({self.status})"

    @transition(field=status, source=HoldStatus.ACTIVE, target=HoldStatus.CAPTURED)
    def capture(self, *, amount: int, at) -> None:
        self.captured_amount = amount
        self.finished_at = at

    @transition(field=status, source=HoldStatus.ACTIVE, target=HoldStatus.RELEASED)
    def release(self, *, at) -> None:
        self.finished_at = at

    @transition(field=status, source=HoldStatus.ACTIVE, target=HoldStatus.EXPIRED)
    def expire(self, *, at) -> None:
        self.finished_at = at


class UnsealedEntry(models.Model):
    """Work queue of the chain sealer: one row per entry posted and not yet sealed, written by
    ledger_post() in the entry's transaction and removed by the sealer in the seal's."""

    entry_id = models.BigIntegerField(primary_key=True)

    def __str__(self) -> str:
        return f"entry #{self.entry_id} awaiting its seal"


class EntrySeal(models.Model):
    """An entry's place in the tenant's chain: `hash = sha256(prev_hash + entry hash)`.

    Entries are sealed in batches, seconds after they commit, by one sealer at a time
    (tasks.seal_chain); the posting path never waits on the chain (docs/adr/0012).
    """

    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, primary_key=True, related_name="seal")
    seq = models.BigIntegerField(help_text="Position in the tenant's chain, from 1, without gaps.")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    sealed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["seq"], name="ledger_seal_seq_unique")]

    def __str__(self) -> str:
        return f"seal #{self.seq} {self.hash[:12]}…"


class ChainHead(models.Model):
    """One row: the last seal. Written by the sealer only, so it is never contended; it lets
    `ledger_verify` notice seals removed from the end of the chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="ledger_chain_head_single_row")]

    def __str__(self) -> str:
        return f"chain head #{self.seq} {self.hash[:12]}…"
