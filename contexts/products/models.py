"""Orchestration's tables, per tenant (schema). Private to contexts.products.

- `ProductConfig`: one row — the tenant's product: the template it came from (name and version,
  as loaded from `templates/*.yaml`), the tenant's overrides, and the effective configuration
  the workflows read.
- `WalletAccount`: which ledger account holds a wallet's money (both are other contexts' public
  ids: strings, no foreign keys).
- `Operation`: one product operation (cash-in, cash-out, transfer, QR payment, wallet close), the
  saga that carries it across primitives. Its `status` (django-fsm) says which step it reached;
  the ids each step obtained are stored with it, so a resumed saga neither repeats a step's
  effect nor loses track of what to compensate.
- `Payout`: a cash-out's request to the payout adapter and its outcome.
"""

from django.db import models
from django.db.models import Q
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, FSMModelMixin, transition

from finfactory.ids import PublicIdField


class ProductConfig(models.Model):
    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    template = models.CharField(max_length=64)
    template_version = models.PositiveIntegerField()
    base = models.JSONField(help_text="The template as loaded (templates/<name>.yaml).")
    overrides = models.JSONField(default=dict, blank=True, help_text="The tenant's changes, merged over the base.")
    effective = models.JSONField(help_text="Base and overrides merged and validated: what the workflows read.")
    version = models.PositiveIntegerField(default=1, help_text="Raised by every change.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "product configuration"
        constraints = [models.CheckConstraint(condition=Q(id=1), name="products_config_single_row")]

    def __str__(self) -> str:
        return f"{self.template} v{self.template_version} (config version {self.version})"


class WalletAccount(models.Model):
    wallet_id = models.CharField(max_length=40, unique=True)
    customer_id = models.CharField(max_length=40, db_index=True)
    currency = models.CharField(max_length=3)
    account_id = models.CharField(max_length=40, unique=True, help_text="The wallet's ledger account (acc_…).")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.wallet_id} → {self.account_id}"


class OperationKind(models.TextChoices):
    CASH_IN = "cash_in", "Cash-in"
    CASH_OUT = "cash_out", "Cash-out"
    TRANSFER = "transfer", "Transfer"
    QR_PAYMENT = "qr_payment", "QR payment"
    WALLET_CLOSE = "wallet_close", "Wallet close"


class OperationStatus(models.TextChoices):
    STARTED = "started", "Started (limits reserved)"
    RISK_APPROVED = "risk_approved", "Approved by fraud scoring"
    PENDING_REVIEW = "pending_review", "Funds held, waiting for a fraud review"
    HELD = "held", "Funds held"
    SUBMITTED = "submitted", "Submitted to the payout or QR network"
    SUCCEEDED = "succeeded", "Succeeded"
    COMPENSATING = "compensating", "Failed, undoing what was done"
    FAILED = "failed", "Failed (nothing left to undo)"


TERMINAL = (OperationStatus.SUCCEEDED, OperationStatus.FAILED)


class Operation(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    """A saga. `status` moves only forward through its workflow's steps (workflows.py), or to
    `compensating` and then `failed`; the step ids below record what exists to compensate."""

    public_id = PublicIdField(prefix="op", unique=False)
    kind = models.CharField(max_length=20, choices=OperationKind.choices)
    reference = models.CharField(max_length=255, help_text="The caller's idempotency reference, unique per kind.")
    fingerprint = models.CharField(max_length=64, help_text="sha256 of the request, to tell a replay from reuse.")
    request = models.JSONField(help_text="The validated request the steps work from.")
    status = FSMField(max_length=20, choices=OperationStatus.choices, default=OperationStatus.STARTED, protected=True)
    wallet_id = models.CharField(max_length=40)
    counterparty_wallet_id = models.CharField(max_length=40, blank=True)
    amount = models.BigIntegerField()
    fee = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    # What each step obtained (public ids of the primitives), so that a resumed or compensating
    # saga knows what exists.
    limit_reference = models.CharField(max_length=255, blank=True)
    assessment_id = models.CharField(max_length=40, blank=True)
    risk_decision = models.CharField(max_length=10, blank=True)
    hold_id = models.CharField(max_length=40, blank=True)
    entry_id = models.CharField(max_length=40, blank=True)
    fee_entry_id = models.CharField(max_length=40, blank=True)
    reversal_entry_id = models.CharField(max_length=40, blank=True)
    qr_payment_id = models.CharField(max_length=40, blank=True)
    qr_route = models.CharField(max_length=10, blank=True)
    payout_id = models.CharField(max_length=40, blank=True)
    failure_code = models.CharField(max_length=60, blank=True)
    failure_detail = models.CharField(max_length=500, blank=True)
    compensated = models.BooleanField(default=False, help_text="Failed after something was done, and undone.")
    attempts = models.PositiveIntegerField(default=0, help_text="Times a runner advanced or resumed it.")
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When the resume sweep may pick it up (a lease while a runner works)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=~Q(status__in=["succeeded", "failed"]),
                name="products_op_unfinished",
            ),
            models.Index(fields=["wallet_id", "created_at"], name="products_op_wallet"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="products_op_public_id_unique"),
            models.UniqueConstraint(fields=["kind", "reference"], name="products_op_reference_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0) & Q(fee__gte=0), name="products_op_amounts"),
            models.CheckConstraint(condition=Q(status__in=OperationStatus.values), name="products_op_status_valid"),
            models.CheckConstraint(
                condition=Q(status__in=TERMINAL, finished_at__isnull=False)
                | (~Q(status__in=TERMINAL) & Q(finished_at__isnull=True)),
                name="products_op_finished_iff_terminal",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.kind} ({self.status})"

    # The saga's transitions (workflows.py decides which applies; each is made once, under the
    # operation's row lock, in the transaction of the step's effects).

    @transition(field=status, source=OperationStatus.STARTED, target=OperationStatus.RISK_APPROVED)
    def risk_approve(self) -> None:
        pass

    @transition(field=status, source=OperationStatus.STARTED, target=OperationStatus.PENDING_REVIEW)
    def review(self) -> None:
        pass

    @transition(
        field=status,
        source=OperationStatus.PENDING_REVIEW,
        target=RETURN_VALUE(OperationStatus.RISK_APPROVED, OperationStatus.HELD),
    )
    def review_approve(self) -> str:
        """After an operator's approval: held funds stay held (HELD), else on to the money step."""
        return OperationStatus.HELD if self.hold_id else OperationStatus.RISK_APPROVED

    @transition(field=status, source=OperationStatus.RISK_APPROVED, target=OperationStatus.HELD)
    def hold(self) -> None:
        pass

    @transition(
        field=status, source=[OperationStatus.RISK_APPROVED, OperationStatus.HELD], target=OperationStatus.SUBMITTED
    )
    def submit(self) -> None:
        pass

    @transition(
        field=status,
        source=[
            OperationStatus.STARTED,
            OperationStatus.RISK_APPROVED,
            OperationStatus.HELD,
            OperationStatus.SUBMITTED,
        ],
        target=OperationStatus.SUCCEEDED,
    )
    def succeed(self) -> None:
        pass

    @transition(
        field=status,
        source=[
            OperationStatus.STARTED,
            OperationStatus.RISK_APPROVED,
            OperationStatus.PENDING_REVIEW,
            OperationStatus.HELD,
            OperationStatus.SUBMITTED,
        ],
        target=OperationStatus.COMPENSATING,
    )
    def fail(self) -> None:
        """Something refused: what was done (limits, hold) is undone next, then `failed`."""

    @transition(field=status, source=OperationStatus.COMPENSATING, target=OperationStatus.FAILED)
    def compensated_done(self) -> None:
        pass


class PayoutStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    SUCCEEDED = "succeeded", "Paid out"
    FAILED = "failed", "Failed"


class Payout(models.Model):
    """A cash-out sent to the payout adapter; the adapter's answer arrives later (a task)."""

    public_id = PublicIdField(prefix="pyt", unique=False)
    operation = models.OneToOneField(Operation, on_delete=models.PROTECT, related_name="payout")
    adapter = models.CharField(max_length=20)
    destination = models.JSONField(default=dict)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=PayoutStatus.choices, default=PayoutStatus.SUBMITTED)
    provider_reference = models.CharField(max_length=100, blank=True)
    failure_reason = models.CharField(max_length=100, blank=True)
    submitted_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="products_payout_public_id_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="products_payout_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} ({self.status})"


class Transaction(models.Model):
    """One posting on a wallet's ledger account, as the API lists it (transactions.py)."""

    public_id = PublicIdField(prefix="txn", unique=False)
    wallet_id = models.CharField(max_length=40)
    entry_id = models.CharField(max_length=40, help_text="The ledger entry (jrn_…).")
    line = models.PositiveSmallIntegerField(help_text="The posting's line in its entry.")
    type = models.CharField(max_length=30)
    direction = models.CharField(max_length=6)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    balance_after = models.BigIntegerField()
    reference_id = models.CharField(max_length=40, blank=True, help_text="The operation it belongs to (if any).")
    created_at = models.DateTimeField(help_text="When the ledger posted it.")

    class Meta:
        ordering = ["-id"]
        indexes = [
            # A wallet's list, newest first, and its time ranges: one index range scan per page.
            models.Index(fields=["wallet_id", "-created_at", "-id"], name="products_txn_wallet"),
            models.Index(fields=["wallet_id", "type", "-created_at", "-id"], name="products_txn_wallet_type"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="products_txn_public_id_unique"),
            models.UniqueConstraint(fields=["entry_id", "line"], name="products_txn_entry_line_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="products_txn_amount_positive"),
            models.CheckConstraint(condition=Q(direction__in=["credit", "debit"]), name="products_txn_direction"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.direction} {self.amount} {self.currency}"
