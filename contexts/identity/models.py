"""Identity's tables. Private to contexts.identity: other contexts use contexts.identity.api.

Personal identifiers (phone, birth date, address, ID numbers) are encrypted at rest
(finfactory.pii, rotatable keys); the phone and ID number also have a blind index for exact
lookups. No model's `__str__` or repr shows personal data: they show public ids.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMModelMixin, transition

from finfactory.ids import PublicIdField
from finfactory.pii import BlindIndexField, EncryptedDateField, EncryptedJSONField, EncryptedTextField


class Customer(models.Model):
    public_id = PublicIdField(prefix="cus", unique=False)
    external_id = models.CharField(  # noqa: DJ001 - NULL (not "") so the unique index ignores customers without one
        max_length=100, null=True, blank=True, help_text="The tenant's own id for the customer, unique per tenant."
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.CharField(max_length=254)
    phone = EncryptedTextField(null=True, blank=True, help_text="E.164, encrypted.")
    phone_index = BlindIndexField(source="phone", purpose="customer.phone")
    birth_date = EncryptedDateField(null=True, blank=True, help_text="Encrypted.")
    address = EncryptedJSONField(null=True, blank=True, help_text="Encrypted JSON object.")
    request_digest = models.CharField(
        max_length=64, help_text="Keyed HMAC of the create request: a retry with the same external_id must match."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        # Uniqueness as constraints and plain indexes: no LIKE index nobody queries (as in the ledger).
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="identity_customer_public_id"),
            models.UniqueConstraint(
                fields=["external_id"], condition=Q(external_id__isnull=False), name="identity_customer_external_id"
            ),
        ]
        indexes = [
            models.Index(fields=["phone_index"], condition=~Q(phone_index=""), name="identity_customer_phone"),
        ]

    def __str__(self) -> str:
        return self.public_id


class KycStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    PENDING = "pending", "Pending"
    VERIFIED = "verified", "Verified"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired"


class KycLevel(models.TextChoices):
    NONE = "none", "None"
    BASIC = "basic", "Basic"
    FULL = "full", "Full"


class IdType(models.TextChoices):
    PASSPORT = "passport", "Passport"
    NATIONAL_ID = "national_id", "National ID"
    DRIVERS_LICENSE = "drivers_license", "Driver's license"
    TAX_ID = "tax_id", "Tax ID"
    SOCIAL_SECURITY = "social_security", "Social security"


class KycCase(ConcurrentTransitionMixin, models.Model):
    """A customer's KYC lifecycle (one per customer, created with it).

    not_started → pending → verified | rejected; verified → expired; rejected → pending while
    resubmissions remain; expired → pending (renewal). The status changes only through the
    transition methods, under the row lock the services in kyc.py take; the mixin refuses a save
    whose status changed since it was read, so a transition happens at most once.
    """

    public_id = PublicIdField(prefix="kyc", unique=False)
    customer = models.OneToOneField(Customer, on_delete=models.PROTECT, related_name="kyc_case")
    status = FSMField(max_length=16, choices=KycStatus.choices, default=KycStatus.NOT_STARTED, protected=True)
    level = models.CharField(
        max_length=8, choices=KycLevel.choices, default=KycLevel.NONE, help_text="The verified level; none otherwise."
    )
    attempts = models.PositiveIntegerField(default=0, help_text="Submissions made.")
    rejections = models.PositiveIntegerField(default=0, help_text="Rejections since the last verification.")
    current_submission = models.ForeignKey(
        "KycSubmission", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.CharField(max_length=64, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "KYC case"
        constraints = [models.UniqueConstraint(fields=["public_id"], name="identity_kyccase_public_id")]
        indexes = [
            models.Index(fields=["expires_at"], condition=Q(status="verified"), name="identity_kyc_verified_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} ({self.status})"

    @transition(
        field=status, source=[KycStatus.NOT_STARTED, KycStatus.REJECTED, KycStatus.EXPIRED], target=KycStatus.PENDING
    )
    def submit(self, *, submission) -> None:
        self.attempts += 1
        self.current_submission = submission
        self.submitted_at = timezone.now()
        self.rejection_reason = ""

    @transition(field=status, source=KycStatus.PENDING, target=KycStatus.VERIFIED)
    def verify(self, *, level: str, expires_at) -> None:
        self.level = level
        self.verified_at = timezone.now()
        self.expires_at = expires_at
        self.rejections = 0
        self.expired_at = None

    @transition(field=status, source=KycStatus.PENDING, target=KycStatus.REJECTED)
    def reject(self, *, reason: str) -> None:
        self.rejections += 1
        self.rejected_at = timezone.now()
        self.rejection_reason = reason

    @transition(field=status, source=KycStatus.VERIFIED, target=KycStatus.EXPIRED)
    def expire(self) -> None:
        self.level = KycLevel.NONE
        self.expired_at = timezone.now()


class SubmissionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    HELD = "held", "Verified by the provider, held by a risk flag"
    VERIFIED = "verified", "Verified"
    REJECTED = "rejected", "Rejected"


class KycSubmission(FSMModelMixin, models.Model):
    """One attempt: the document sent to the provider and the provider's answer."""

    public_id = PublicIdField(prefix="kys", unique=False)
    # Served by the unique (case, number) index.
    case = models.ForeignKey(KycCase, on_delete=models.PROTECT, related_name="submissions", db_index=False)
    number = models.PositiveIntegerField(help_text="1 for the case's first attempt, 2 for the next…")
    id_type = models.CharField(max_length=20, choices=IdType.choices)
    id_number = EncryptedTextField(help_text="Canonical form (upper case, no spaces or dashes), encrypted.")
    id_number_index = BlindIndexField(source="id_number", purpose="kyc.id_number")
    requested_level = models.CharField(max_length=8, choices=KycLevel.choices)
    provider = models.CharField(max_length=20)
    provider_reference = models.CharField(max_length=100, blank=True, help_text="The provider's id of the check.")
    status = FSMField(max_length=10, choices=SubmissionStatus.choices, default=SubmissionStatus.PENDING, protected=True)
    decided_level = models.CharField(max_length=8, choices=KycLevel.choices, blank=True)
    decided_expires_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=64, blank=True, help_text="The provider's rejection reason code.")
    submitted_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="identity_submission_public_id"),
            models.UniqueConstraint(fields=["case", "number"], name="identity_submission_case_number"),
        ]
        indexes = [
            models.Index(fields=["submitted_at"], condition=Q(status="pending"), name="identity_submission_pending"),
            models.Index(fields=["id_number_index"], name="identity_submission_id_number"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} ({self.status})"

    @transition(field=status, source=SubmissionStatus.PENDING, target=SubmissionStatus.HELD)
    def hold(self, *, level: str, expires_at) -> None:
        self.decided_level, self.decided_expires_at = level, expires_at
        self.decided_at = timezone.now()

    @transition(
        field=status, source=[SubmissionStatus.PENDING, SubmissionStatus.HELD], target=SubmissionStatus.VERIFIED
    )
    def verify(self, *, level: str, expires_at) -> None:
        self.decided_level, self.decided_expires_at = level, expires_at
        self.decided_at = self.decided_at or timezone.now()

    @transition(field=status, source=SubmissionStatus.PENDING, target=SubmissionStatus.REJECTED)
    def reject(self, *, reason: str) -> None:
        self.reason = reason
        self.decided_at = timezone.now()


class WatchlistEntry(models.Model):
    """A name the tenant screens its customers against (sanctions, PEPs, internal blocklist)."""

    public_id = PublicIdField(prefix="wle", unique=False)
    full_name = models.CharField(max_length=200)
    normalized_name = models.CharField(max_length=200, editable=False, help_text="Accents and case removed.")
    list_name = models.CharField(max_length=100, help_text="Where the name comes from, e.g. 'OFAC SDN', 'internal'.")
    note = models.TextField(blank=True)
    active = models.BooleanField(default=True, help_text="Inactive entries are not screened against.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["full_name", "id"]
        verbose_name_plural = "watchlist entries"
        constraints = [models.UniqueConstraint(fields=["public_id"], name="identity_watchlist_public_id")]

    def __str__(self) -> str:
        return f"{self.public_id} ({self.list_name})"


class RiskFlagStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLEARED = "cleared", "Cleared"


class RiskFlag(ConcurrentTransitionMixin, models.Model):
    """A watchlist hit on a customer. While open it blocks the customer's verification; it is
    cleared only by an approved maker-checker request (contexts.identity.clearance)."""

    public_id = PublicIdField(prefix="rsk", unique=False)
    # Served by the unique (customer, watchlist_entry) index.
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="risk_flags", db_index=False)
    watchlist_entry = models.ForeignKey(WatchlistEntry, on_delete=models.PROTECT, related_name="flags")
    score = models.PositiveSmallIntegerField(help_text="Name similarity, 0-100.")
    status = FSMField(max_length=8, choices=RiskFlagStatus.choices, default=RiskFlagStatus.OPEN, protected=True)
    clearance_approval_id = models.CharField(max_length=40, blank=True, help_text="The latest clearance request.")
    cleared_by = models.CharField(max_length=200, blank=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="identity_riskflag_public_id"),
            # A cleared hit stays cleared: the same entry does not flag the same customer twice.
            models.UniqueConstraint(fields=["customer", "watchlist_entry"], name="identity_flag_once_per_entry"),
        ]
        indexes = [models.Index(fields=["customer"], condition=Q(status="open"), name="identity_flag_open")]

    def __str__(self) -> str:
        return f"{self.public_id} ({self.status})"

    @transition(field=status, source=RiskFlagStatus.OPEN, target=RiskFlagStatus.CLEARED)
    def clear(self, *, by: str) -> None:
        self.cleared_by = by
        self.cleared_at = timezone.now()
