"""The wallets' tables. Private to contexts.wallets: other contexts use contexts.wallets.api.

A wallet is the customer-facing e-money account of the EMI: who owns it (identity's public
customer id, a string — no foreign key across contexts), its currency, its lifecycle, and the
customer's KYC level, which together with the tenant's tier schedule decides its tier and limits.
The money itself lives in the ledger; wallets never reads it.

Tier schedule (per tenant, i.e. per schema): `LimitPolicy` (one row: time zone of "day" and
"month", where the schedule came from, a version) and `Tier` (one per tier and currency, mapped
from one KYC level) with one `TierFlowLimit` per money flow.

Usage: one `LimitUsage` row per wallet and flow holds the current day's and month's totals and
counts; `LimitReservation` records each reservation by the caller's reference. Counters change
only by conditional UPDATEs in limits.py.
"""

from django.db import models
from django.db.models import F, Q
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMModelMixin, transition

from finfactory.ids import PublicIdField


class KycLevel(models.TextChoices):
    NONE = "none", "None"
    BASIC = "basic", "Basic"
    FULL = "full", "Full"


class FlowKind(models.TextChoices):
    CASH_IN = "cash_in", "Cash-in"
    CASH_OUT = "cash_out", "Cash-out"
    TRANSFER_OUT = "transfer_out", "Outgoing transfer"


class WalletStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    CLOSED = "closed", "Closed"


class Wallet(ConcurrentTransitionMixin, FSMModelMixin, models.Model):
    """`status` changes only through the transition methods, under the row lock (services.py);
    ConcurrentTransitionMixin refuses a save whose status changed underneath as a second guard."""

    public_id = PublicIdField(prefix="wal", unique=False)
    customer_id = models.CharField(max_length=40, help_text="Public id of the customer in identity (cus_…).")
    currency = models.CharField(max_length=3)
    kyc_level = models.CharField(
        max_length=5, choices=KycLevel.choices, help_text="The customer's KYC level: decides the tier."
    )
    status = FSMField(max_length=10, choices=WalletStatus.choices, default=WalletStatus.ACTIVE, protected=True)
    status_reason = models.CharField(max_length=500, blank=True, help_text="Reason of the latest status change.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["customer_id", "currency"], name="wallets_wallet_customer")]
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="wallets_wallet_public_id_unique"),
            # One wallet a customer can use per currency; a closed one does not count, so a
            # customer may open a new wallet after closing the old one.
            models.UniqueConstraint(
                fields=["customer_id", "currency"],
                condition=~Q(status=WalletStatus.CLOSED),
                name="wallets_one_open_wallet_per_customer_currency",
            ),
            models.CheckConstraint(condition=Q(status__in=WalletStatus.values), name="wallets_wallet_status_valid"),
            models.CheckConstraint(condition=Q(kyc_level__in=KycLevel.values), name="wallets_wallet_kyc_level_valid"),
            models.CheckConstraint(
                condition=(Q(status=WalletStatus.CLOSED) & Q(closed_at__isnull=False))
                | (~Q(status=WalletStatus.CLOSED) & Q(closed_at__isnull=True)),
                name="wallets_wallet_closed_at_iff_closed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.currency} ({self.status})"

    @transition(field=status, source=WalletStatus.ACTIVE, target=WalletStatus.SUSPENDED)
    def suspend(self, *, reason: str) -> None:
        self.status_reason = reason

    @transition(field=status, source=WalletStatus.SUSPENDED, target=WalletStatus.ACTIVE)
    def activate(self, *, reason: str) -> None:
        self.status_reason = reason

    @transition(field=status, source=[WalletStatus.ACTIVE, WalletStatus.SUSPENDED], target=WalletStatus.CLOSED)
    def close(self, *, reason: str, at) -> None:
        self.status_reason = reason
        self.closed_at = at


class CustomerKyc(models.Model):
    """The latest KYC level heard from identity's `kyc.verified` / `kyc.expired` events.

    A read model of another context's facts, built from its events only: it lets a wallet opened
    after the event start at the right level, and lets an event delivered out of order be ignored.
    """

    customer_id = models.CharField(max_length=40, unique=True)
    level = models.CharField(max_length=5, choices=KycLevel.choices)
    event_id = models.CharField(max_length=40, help_text="The event that set this level.")
    event_type = models.CharField(max_length=40)
    occurred_at = models.DateTimeField(help_text="When identity published that event.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "customer KYC level"
        ordering = ["customer_id"]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.level}"


class LimitPolicy(models.Model):
    """One row per tenant: the schedule's provenance, version and the time zone of its periods."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    template = models.CharField(max_length=64, help_text="The product template whose defaults seeded the schedule.")
    source = models.CharField(max_length=20, help_text="'template' (the defaults) or 'custom' (configured since).")
    time_zone = models.CharField(max_length=64, help_text="IANA zone in which a day and a month start and end.")
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "limit policy"
        verbose_name_plural = "limit policy"
        constraints = [models.CheckConstraint(condition=Q(id=1), name="wallets_limit_policy_single_row")]

    def __str__(self) -> str:
        return f"limit policy v{self.version} ({self.source}, {self.time_zone})"


class Tier(models.Model):
    """A tier in one currency: the limits of wallets in that currency whose customer has `kyc_level`."""

    code = models.SlugField(max_length=40)
    name = models.CharField(max_length=100)
    kyc_level = models.CharField(max_length=5, choices=KycLevel.choices)
    currency = models.CharField(max_length=3)
    max_balance = models.BigIntegerField(null=True, blank=True, help_text="Minor units; empty: no maximum.")

    class Meta:
        ordering = ["currency", "kyc_level"]
        constraints = [
            models.UniqueConstraint(fields=["code", "currency"], name="wallets_tier_code_currency_unique"),
            models.UniqueConstraint(fields=["kyc_level", "currency"], name="wallets_tier_one_per_kyc_level"),
            models.CheckConstraint(
                condition=Q(max_balance__isnull=True) | Q(max_balance__gte=0), name="wallets_tier_max_balance_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.currency} (KYC {self.kyc_level})"


class TierFlowLimit(models.Model):
    """A tier's limits on one money flow. Amounts in minor units of the tier's currency; an empty
    value means no limit of that kind."""

    # Served by the unique (tier, kind) index.
    tier = models.ForeignKey(Tier, on_delete=models.CASCADE, related_name="flows", db_index=False)
    kind = models.CharField(max_length=12, choices=FlowKind.choices)
    min_amount = models.BigIntegerField(help_text="Smallest amount of one movement.")
    max_amount = models.BigIntegerField(null=True, blank=True, help_text="Largest amount of one movement.")
    daily_amount = models.BigIntegerField(null=True, blank=True)
    daily_count = models.IntegerField(null=True, blank=True)
    monthly_amount = models.BigIntegerField(null=True, blank=True)
    monthly_count = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["tier_id", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["tier", "kind"], name="wallets_tier_flow_unique"),
            models.CheckConstraint(condition=Q(min_amount__gte=1), name="wallets_flow_min_positive"),
            models.CheckConstraint(
                condition=Q(max_amount__isnull=True) | Q(max_amount__gte=F("min_amount")),
                name="wallets_flow_max_not_below_min",
            ),
            models.CheckConstraint(
                condition=(Q(daily_amount__isnull=True) | Q(daily_amount__gte=0))
                & (Q(daily_count__isnull=True) | Q(daily_count__gte=0))
                & (Q(monthly_amount__isnull=True) | Q(monthly_amount__gte=0))
                & (Q(monthly_count__isnull=True) | Q(monthly_count__gte=0)),
                name="wallets_flow_limits_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tier} {self.kind}"


class LimitUsage(models.Model):
    """What one wallet used of one flow in its current day and month (in the policy's time zone).

    `day`/`month` name the periods the totals belong to; a reservation in a later period starts
    them from zero in the same UPDATE (limits.py), so no job resets counters at midnight.
    """

    # Served by the unique (wallet, kind) index.
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="usage", db_index=False)
    kind = models.CharField(max_length=12, choices=FlowKind.choices)
    day = models.DateField(null=True, blank=True)
    day_amount = models.BigIntegerField(default=0)
    day_count = models.IntegerField(default=0)
    month = models.DateField(null=True, blank=True, help_text="First day of the month.")
    month_amount = models.BigIntegerField(default=0)
    month_count = models.IntegerField(default=0)

    class Meta:
        verbose_name_plural = "limit usage"
        constraints = [
            models.UniqueConstraint(fields=["wallet", "kind"], name="wallets_usage_wallet_kind_unique"),
            models.CheckConstraint(
                condition=Q(day_amount__gte=0) & Q(day_count__gte=0) & Q(month_amount__gte=0) & Q(month_count__gte=0),
                name="wallets_usage_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.wallet_id} {self.kind}: {self.day_amount}/{self.day_count} on {self.day}"


class ReservationStatus(models.TextChoices):
    RESERVED = "reserved", "Reserved"
    RELEASED = "released", "Released"


class LimitReservation(models.Model):
    """Usage counted for one movement of a money flow, under the caller's unique reference."""

    public_id = PublicIdField(prefix="rsv", unique=False)
    reference = models.CharField(max_length=200)
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="reservations", db_index=False)
    kind = models.CharField(max_length=12, choices=FlowKind.choices)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    day = models.DateField(help_text="The day whose totals it was counted in.")
    month = models.DateField(help_text="The month whose totals it was counted in.")
    status = models.CharField(max_length=10, choices=ReservationStatus.choices, default=ReservationStatus.RESERVED)
    created_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="wallets_reservation_public_id_unique"),
            models.UniqueConstraint(fields=["reference"], name="wallets_reservation_reference_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="wallets_reservation_amount_positive"),
            models.CheckConstraint(
                condition=(Q(status=ReservationStatus.RELEASED) & Q(released_at__isnull=False))
                | (Q(status=ReservationStatus.RESERVED) & Q(released_at__isnull=True)),
                name="wallets_reservation_released_at_iff_released",
            ),
        ]
        indexes = [models.Index(fields=["wallet", "created_at"], name="wallets_reservation_wallet")]

    def __str__(self) -> str:
        return f"{self.reference} {self.kind} {self.amount} {self.currency} ({self.status})"
