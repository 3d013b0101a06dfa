"""QR Ph tables, per tenant (schema). Private to contexts.qrph: other contexts use its api.

- `QrphSettings`: one row, the tenant's own acquirer BIC and network adapter.
- `MerchantProfile`: a wallet that can receive by QR (wallets' public id, a string — no foreign
  key across contexts), with the name, city and MCC its codes show and its QR Ph merchant id.
- `QrCode`: a code the tenant issued; its payload is unique (a static code is issued once).
- `QrPayment`: a payment of a scanned code; `status` moves pending → confirmed | failed once,
  under the row lock (services), with ConcurrentTransitionMixin as a second guard.
"""

from django.db import models
from django.db.models import Q
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMModelMixin, transition

from finfactory.ids import PublicIdField


class Scheme(models.TextChoices):
    P2M = "p2m", "Person to merchant (ph.ppmi.p2m)"
    P2P = "p2p", "Person to person (com.p2pqrpay)"


class CodeType(models.TextChoices):
    STATIC = "static", "Static"
    DYNAMIC = "dynamic", "Dynamic"


class Route(models.TextChoices):
    ON_US = "on_us", "On-us"
    OFF_US = "off_us", "Off-us (QR Ph network)"


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    CONFIRMED = "confirmed", "Confirmed"
    FAILED = "failed", "Failed"


class QrphSettings(models.Model):
    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    bic = models.CharField(max_length=11, help_text="The tenant's acquirer id (BIC) in sub-tag 01 of its codes.")
    network = models.CharField(max_length=20, help_text="Adapter of off-us payments (e.g. sandbox).")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "QR Ph configuration"
        constraints = [models.CheckConstraint(condition=Q(id=1), name="qrph_settings_single_row")]

    def __str__(self) -> str:
        return f"QR Ph {self.bic} via {self.network}"


class MerchantProfile(models.Model):
    public_id = PublicIdField(prefix="qrm")
    wallet_id = models.CharField(max_length=40, unique=True, help_text="The receiving wallet (wal_…).")
    scheme = models.CharField(max_length=3, choices=Scheme.choices, default=Scheme.P2M)
    merchant_id = models.CharField(max_length=21, unique=True, help_text="QR Ph merchant / account id in codes.")
    name = models.CharField(max_length=25)
    city = models.CharField(max_length=15)
    mcc = models.CharField(max_length=4)
    postal_code = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.CheckConstraint(condition=Q(scheme__in=Scheme.values), name="qrph_merchant_scheme")]

    def __str__(self) -> str:
        return f"{self.public_id} {self.name} ({self.wallet_id})"


class QrCode(models.Model):
    public_id = PublicIdField(prefix="qr")
    merchant = models.ForeignKey(MerchantProfile, on_delete=models.PROTECT, related_name="codes")
    type = models.CharField(max_length=7, choices=CodeType.choices)
    payload = models.TextField()
    payload_digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the payload.")
    amount = models.BigIntegerField(null=True, blank=True, help_text="Minor units; dynamic codes only.")
    currency = models.CharField(max_length=3, default="PHP")
    reference_label = models.CharField(max_length=25, blank=True, help_text="Tag 62.05 of a dynamic code.")
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(type=CodeType.STATIC) & Q(amount__isnull=True) & Q(expires_at__isnull=True))
                | (Q(type=CodeType.DYNAMIC) & Q(amount__gt=0)),
                name="qrph_code_amount_iff_dynamic",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} ({self.type})"


class QrPayment(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    public_id = PublicIdField(prefix="qrp")
    reference = models.CharField(max_length=200, unique=True, help_text="The caller's idempotency reference.")
    request_digest = models.CharField(max_length=64, help_text="SHA-256 of the request, to tell a replay.")
    payer_wallet_id = models.CharField(max_length=40)
    route = models.CharField(max_length=6, choices=Route.choices)
    status = FSMField(max_length=9, choices=PaymentStatus.choices, default=PaymentStatus.PENDING, protected=True)
    payload = models.TextField()
    payload_digest = models.CharField(max_length=64, db_index=True)
    code_type = models.CharField(max_length=7, choices=CodeType.choices)
    qr_code = models.ForeignKey(QrCode, null=True, blank=True, on_delete=models.PROTECT, related_name="payments")
    receiving_wallet_id = models.CharField(max_length=40, blank=True, help_text="On-us: the merchant's wallet.")
    acquirer_bic = models.CharField(max_length=11)
    merchant_id = models.CharField(max_length=99)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    network = models.CharField(max_length=20, blank=True)
    network_reference = models.CharField(max_length=200, blank=True)
    settlement_reference = models.CharField(max_length=200, blank=True)
    failure_reason = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["route", "status", "created_at"], name="qrph_payment_pending")]
        constraints = [
            # A dynamic code pays once: at most one payment of it that has not failed.
            models.UniqueConstraint(
                fields=["payload_digest"],
                condition=Q(code_type=CodeType.DYNAMIC) & ~Q(status=PaymentStatus.FAILED),
                name="qrph_dynamic_code_single_use",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="qrph_payment_amount_positive"),
            models.CheckConstraint(condition=Q(status__in=PaymentStatus.values), name="qrph_payment_status"),
            models.CheckConstraint(
                condition=(Q(route=Route.ON_US) & ~Q(receiving_wallet_id="")) | Q(route=Route.OFF_US),
                name="qrph_on_us_has_receiving_wallet",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.route} ({self.status})"

    @transition(field=status, source=PaymentStatus.PENDING, target=PaymentStatus.CONFIRMED)
    def confirm(self, *, at, settlement_reference: str = "") -> None:
        self.decided_at = at
        self.settlement_reference = settlement_reference

    @transition(field=status, source=PaymentStatus.PENDING, target=PaymentStatus.FAILED)
    def fail(self, *, at, reason: str) -> None:
        self.decided_at = at
        self.failure_reason = reason
