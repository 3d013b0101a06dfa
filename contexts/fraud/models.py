"""Fraud tables, per tenant (schema). Private to contexts.fraud: other contexts use its api.

Configuration (edited in the back office, every change audited):
- `FraudSettings`: one row — the score thresholds of review and decline, and the amounts above
  which a reviewer's decision needs a second person (maker-checker).
- `Rule`: one version of a rule. A rule (`code`) is a chain of immutable versions, each with an
  effective period; a change is a new version that closes the previous one, so what decided any
  past movement can be read back.
- `BlockListEntry`: a value (customer, wallet, counterparty, device, IP) refused or sent to review.

What fraud knows of the world, from the events it consumes (ids and numbers only, no foreign keys
to other contexts): `KnownCustomer`, `KnownWallet`, `KnownAccount` (ledger balances and posting
counts), and `KnownDevice` (devices seen on the customer's approved movements).

Decisions: `Assessment` (one scored movement, with the features the model saw, so training uses
what was known at the time), `ReviewCase` (a movement held for an operator) and `ModelVersion`
(a trained model with its metrics).
"""

from django.db import models
from django.db.models import Q
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMModelMixin, transition

from finfactory.ids import PublicIdField


class MovementType(models.TextChoices):
    CASH_IN = "cash_in", "Cash-in"
    CASH_OUT = "cash_out", "Cash-out"
    TRANSFER = "transfer", "Transfer"
    QR_PAYMENT = "qr_payment", "QR payment"
    CARD_PAYMENT = "card_payment", "Card payment"


class Channel(models.TextChoices):
    APP = "app", "Mobile app"
    WEB = "web", "Web"
    API = "api", "API"
    POS = "pos", "Point of sale"
    AGENT = "agent", "Cash agent"
    BACK_OFFICE = "back_office", "Back office"


class Decision(models.TextChoices):
    APPROVE = "approve", "Approve"
    REVIEW = "review", "Review"
    DECLINE = "decline", "Decline"


class RuleKind(models.TextChoices):
    AMOUNT = "amount_threshold", "Amount threshold"
    VELOCITY = "velocity", "Velocity"
    NEW_DEVICE = "new_device", "New device"
    GEO_MISMATCH = "geo_mismatch", "Geolocation mismatch"
    BLOCK_LIST = "block_list", "Block list"


class RuleAction(models.TextChoices):
    DECLINE = "decline", "Decline"
    REVIEW = "review", "Send to review"
    SCORE = "score", "Add its weight to the score only"


class BlockKind(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    WALLET = "wallet", "Wallet"
    COUNTERPARTY = "counterparty", "Counterparty"
    DEVICE = "device", "Device"
    IP = "ip", "IP address or network"


class CaseStatus(models.TextChoices):
    OPEN = "open", "Open"
    APPROVED = "approved", "Approved"
    DECLINED = "declined", "Declined"


class ModelStatus(models.TextChoices):
    CANDIDATE = "candidate", "Candidate"
    SHADOW = "shadow", "Shadow (scored and logged, not enforced)"
    ACTIVE = "active", "Active (enforced)"
    RETIRED = "retired", "Retired"


class FraudSettings(models.Model):
    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    review_threshold = models.PositiveSmallIntegerField(
        default=600, help_text="A score at or above this (0-1000) sends the movement to review."
    )
    decline_threshold = models.PositiveSmallIntegerField(
        default=900, help_text="A score at or above this (0-1000) declines the movement."
    )
    dual_control_amounts = models.JSONField(
        default=dict,
        blank=True,
        help_text=(
            "Per currency, the amount (minor units) from which a review decision needs an Approver, "
            'e.g. {"PHP": 5000000}.'
        ),
    )
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "fraud settings"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="fraud_settings_single_row"),
            models.CheckConstraint(
                condition=Q(review_threshold__lte=1000),
                name="fraud_settings_review_threshold_range",
            ),
            models.CheckConstraint(condition=Q(decline_threshold__lte=1000), name="fraud_settings_decline_range"),
            models.CheckConstraint(
                condition=Q(review_threshold__lte=models.F("decline_threshold")),
                name="fraud_settings_review_below_decline",
            ),
        ]

    def __str__(self) -> str:
        return f"review ≥ {self.review_threshold}, decline ≥ {self.decline_threshold}"


class Rule(models.Model):
    """One version of a rule; rows are never edited except to close their effective period."""

    public_id = PublicIdField(prefix="rul")
    code = models.SlugField(max_length=60, help_text="Stable name of the rule across its versions.")
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=RuleKind.choices)
    params = models.JSONField(default=dict, help_text="Parameters of the kind (contexts/fraud/README.md).")
    action = models.CharField(max_length=10, choices=RuleAction.choices)
    weight = models.PositiveSmallIntegerField(help_text="Added to the score (0-1000) when the rule fires.")
    enabled = models.BooleanField(default=True)
    effective_from = models.DateTimeField()
    effective_to = models.DateTimeField(null=True, blank=True, help_text="Set when a later version takes over.")
    reason = models.CharField(max_length=500, help_text="Why this version was made.")
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code", "-version"]
        indexes = [models.Index(fields=["effective_from"], name="fraud_rule_effective")]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="fraud_rule_code_version_unique"),
            models.UniqueConstraint(fields=["public_id"], name="fraud_rule_public_id_unique"),
            models.CheckConstraint(condition=Q(weight__lte=1000), name="fraud_rule_weight_range"),
            models.CheckConstraint(condition=Q(kind__in=RuleKind.values), name="fraud_rule_kind_valid"),
            models.CheckConstraint(condition=Q(action__in=RuleAction.values), name="fraud_rule_action_valid"),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=models.F("effective_from")),
                name="fraud_rule_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"


class BlockListEntry(models.Model):
    public_id = PublicIdField(prefix="blk")
    kind = models.CharField(max_length=12, choices=BlockKind.choices)
    value = models.CharField(max_length=200, help_text="The id, device id, IP address or CIDR network.")
    reason = models.CharField(max_length=500)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "block list entries"
        indexes = [models.Index(fields=["kind", "value"], name="fraud_block_kind_value")]
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="fraud_block_public_id_unique"),
            models.UniqueConstraint(
                fields=["kind", "value"], condition=Q(removed_at__isnull=True), name="fraud_block_one_live_entry"
            ),
            models.CheckConstraint(condition=Q(kind__in=BlockKind.values), name="fraud_block_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.value}"


class KnownCustomer(models.Model):
    customer_id = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(null=True, blank=True, help_text="When identity created the customer.")
    kyc_level = models.CharField(max_length=5, default="none")
    kyc_changed_at = models.DateTimeField(null=True, blank=True)
    # Running totals of the customer's movements not declined, kept by the scoring under the
    # customer's lock: the "usual amount" feature without scanning history.
    movements_count = models.PositiveIntegerField(default=0)
    movements_amount = models.BigIntegerField(default=0)
    synthetic = models.BooleanField(default=False, help_text="Made by fraud_generate for a sandbox pipeline.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.customer_id


class KnownWallet(models.Model):
    wallet_id = models.CharField(max_length=40, unique=True)
    customer_id = models.CharField(max_length=40, db_index=True)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, default="active")
    created_at = models.DateTimeField(null=True, blank=True)
    synthetic = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.wallet_id


class KnownAccount(models.Model):
    """A ledger account as its events describe it. `owner_ref` (a wallet id for customer
    accounts) arrives with balance.updated; posting counts with journal.posted, whichever first."""

    account_id = models.CharField(max_length=100, unique=True)
    owner_ref = models.CharField(max_length=100, blank=True, db_index=True)
    currency = models.CharField(max_length=3, blank=True)
    posted = models.BigIntegerField(default=0)
    available = models.BigIntegerField(default=0)
    balance_sequence = models.BigIntegerField(default=0, help_text="Sequence of the balance.updated last applied.")
    credits_count = models.PositiveIntegerField(default=0)
    credits_amount = models.BigIntegerField(default=0)
    debits_count = models.PositiveIntegerField(default=0)
    debits_amount = models.BigIntegerField(default=0)
    last_posting_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.account_id


class KnownDevice(models.Model):
    customer_id = models.CharField(max_length=40)
    device_id = models.CharField(max_length=200)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer_id", "device_id"], name="fraud_device_per_customer_unique")
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.device_id}"


class Assessment(models.Model):
    """One scored movement. Its velocity keys (customer, wallet, counterparty) and time are
    indexed: velocity rules count the movements of a key in a window straight from here."""

    public_id = PublicIdField(prefix="rsk")
    reference = models.CharField(max_length=200, help_text="The caller's reference; scoring it again replays.")
    fingerprint = models.CharField(
        max_length=64, help_text="sha256 of the scored request, to tell a replay from reuse."
    )
    customer_id = models.CharField(max_length=40)
    wallet_id = models.CharField(max_length=40)
    movement_type = models.CharField(max_length=20, choices=MovementType.choices)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    counterparty = models.CharField(max_length=200, blank=True)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    device_id = models.CharField(max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    ip_country = models.CharField(max_length=2, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    location_country = models.CharField(max_length=2, blank=True)
    occurred_at = models.DateTimeField()
    decision = models.CharField(max_length=10, choices=Decision.choices)
    score = models.PositiveSmallIntegerField()
    rules_score = models.PositiveSmallIntegerField(default=0)
    model_version = models.PositiveIntegerField(null=True, blank=True)
    model_score = models.PositiveSmallIntegerField(null=True, blank=True)
    shadow_version = models.PositiveIntegerField(null=True, blank=True)
    shadow_score = models.PositiveSmallIntegerField(null=True, blank=True)
    shadow_decision = models.CharField(max_length=10, choices=Decision.choices, blank=True)
    reasons = models.JSONField(default=list, help_text="Rules fired and the model's top features.")
    features = models.JSONField(default=list, help_text="The feature vector the model saw, in FEATURES order.")
    label = models.BooleanField(null=True, blank=True, help_text="True: fraud; False: legitimate; empty: unknown.")
    label_source = models.CharField(max_length=40, blank=True)
    labelled_at = models.DateTimeField(null=True, blank=True)
    synthetic = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["customer_id", "occurred_at"], name="fraud_assess_customer_time"),
            models.Index(fields=["wallet_id", "occurred_at"], name="fraud_assess_wallet_time"),
            models.Index(fields=["counterparty", "occurred_at"], name="fraud_assess_counterparty_time"),
            models.Index(fields=["label"], condition=Q(label__isnull=False), name="fraud_assess_labelled"),
            models.Index(
                fields=["customer_id", "occurred_at"], condition=Q(decision="decline"), name="fraud_assess_declines"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="fraud_assessment_public_id_unique"),
            models.UniqueConstraint(fields=["reference"], name="fraud_assessment_reference_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="fraud_assessment_amount_positive"),
            models.CheckConstraint(condition=Q(score__lte=1000), name="fraud_assessment_score_range"),
            models.CheckConstraint(condition=Q(decision__in=Decision.values), name="fraud_assessment_decision_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.decision} ({self.score})"


class ReviewCase(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    """A movement the scoring sent to review: its funds stay held (by orchestration) until an
    operator approves or declines it, once."""

    public_id = PublicIdField(prefix="rev")
    assessment = models.OneToOneField(Assessment, on_delete=models.PROTECT, related_name="case")
    status = FSMField(max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN, protected=True)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    opened_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=200, blank=True)
    decision_reason = models.CharField(max_length=500, blank=True)
    approval_id = models.CharField(
        max_length=40, blank=True, help_text="The maker-checker request awaiting an Approver, if any."
    )

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "opened_at"], name="fraud_case_queue")]
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="fraud_case_public_id_unique"),
            models.CheckConstraint(condition=Q(status__in=CaseStatus.values), name="fraud_case_status_valid"),
            models.CheckConstraint(
                condition=(Q(status=CaseStatus.OPEN) & Q(decided_at__isnull=True))
                | (~Q(status=CaseStatus.OPEN) & Q(decided_at__isnull=False)),
                name="fraud_case_decided_at_iff_decided",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} ({self.status})"

    @transition(field=status, source=CaseStatus.OPEN, target=CaseStatus.APPROVED)
    def approve(self) -> None:
        pass

    @transition(field=status, source=CaseStatus.OPEN, target=CaseStatus.DECLINED)
    def decline(self) -> None:
        pass


class ModelVersion(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    """A trained model: its artifact (signed; verified before it is loaded), the features it
    reads, the training set's size and the held-out metrics."""

    version = models.PositiveIntegerField(unique=True)
    status = FSMField(max_length=10, choices=ModelStatus.choices, default=ModelStatus.CANDIDATE, protected=True)
    algorithm = models.CharField(max_length=100)
    feature_names = models.JSONField()
    params = models.JSONField(default=dict, help_text="Hyper-parameters and the features' baseline values.")
    metrics = models.JSONField(default=dict, help_text="ROC AUC, precision and recall at the threshold, sizes.")
    threshold = models.FloatField(help_text="Probability at which the model alone would send to review.")
    artifact = models.BinaryField()
    artifact_signature = models.CharField(max_length=64, help_text="HMAC-SHA256 of the artifact (artifacts.py).")
    training_rows = models.PositiveIntegerField()
    trained_at = models.DateTimeField(auto_now_add=True)
    trained_by = models.CharField(max_length=200)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=Q(status=ModelStatus.ACTIVE), name="fraud_model_one_active"
            ),
            models.UniqueConstraint(
                fields=["status"], condition=Q(status=ModelStatus.SHADOW), name="fraud_model_one_shadow"
            ),
            models.CheckConstraint(condition=Q(status__in=ModelStatus.values), name="fraud_model_status_valid"),
        ]

    def __str__(self) -> str:
        return f"model v{self.version} ({self.status})"

    @transition(
        field=status, source=[ModelStatus.CANDIDATE, ModelStatus.ACTIVE, ModelStatus.RETIRED], target=ModelStatus.SHADOW
    )
    def shadow(self) -> None:
        pass

    @transition(
        field=status, source=[ModelStatus.CANDIDATE, ModelStatus.SHADOW, ModelStatus.RETIRED], target=ModelStatus.ACTIVE
    )
    def activate(self) -> None:
        pass

    @transition(
        field=status, source=[ModelStatus.CANDIDATE, ModelStatus.SHADOW, ModelStatus.ACTIVE], target=ModelStatus.RETIRED
    )
    def retire(self) -> None:
        pass
