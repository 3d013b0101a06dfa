"""Notification tables, per tenant (schema). Private to contexts.notifications.

- `Recipient`: how to reach a customer (e-mail, phone, push token; encrypted), registered through
  the api by orchestration. Identity's events carry no personal data, so this is the only source.
- `WalletOwner`: read model `wallet_id → customer_id`, fed by `wallet.created`, so money events
  (which name wallets) find the customer to tell.
- `NotificationTemplate`: a tenant's override of the shipped default (default_templates.py) for
  one (event type, channel); `enabled=False` turns that channel off for that event.
- `CustomerPreference`: an opt-out of one category on one channel (security is not optional).
- `Notification` (`ntf_…`): one message to one customer on one channel for one event, with its
  rendered text and delivery state. Never holds an address: it is read from `Recipient` at send
  time, so a corrected address is used by the retries.
- `SandboxMessage`: what the SMS and push sandbox adapters "sent", for tests and the back office.
"""

from django.db import models
from django.db.models import Q

from finfactory.ids import PublicIdField
from finfactory.pii import EncryptedTextField


class Channel(models.TextChoices):
    EMAIL = "email"
    SMS = "sms"
    PUSH = "push"


class Category(models.TextChoices):
    KYC = "kyc"
    MONEY = "money"
    SECURITY = "security"


class Kind(models.TextChoices):
    """What a notification is about: an event type, or what an operation meant to this customer."""

    KYC_VERIFIED = "kyc.verified"
    KYC_REJECTED = "kyc.rejected"
    MONEY_IN = "money_in"
    MONEY_OUT = "money_out"
    WALLET_SUSPENDED = "wallet.suspended"
    # To the tenant itself (its operations contact, the recipient TENANT_RECIPIENT).
    WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint.disabled"


class Status(models.TextChoices):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # the channel refused it for good (ChannelRejected): no retry
    DEAD = "dead"  # retries exhausted or the template failed to render: a dead letter
    SKIPPED_OPTED_OUT = "skipped_opted_out"
    SKIPPED_NO_ADDRESS = "skipped_no_address"
    SKIPPED_DISABLED = "skipped_disabled"  # the tenant disabled this (event, channel) template


class Recipient(models.Model):
    customer_id = models.CharField(max_length=100, unique=True)
    email = EncryptedTextField(null=True, blank=True)
    phone = EncryptedTextField(null=True, blank=True)
    push_token = EncryptedTextField(null=True, blank=True)
    locale = models.CharField(max_length=16, default="en")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.customer_id


class WalletOwner(models.Model):
    wallet_id = models.CharField(max_length=40, unique=True)
    customer_id = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.wallet_id} → {self.customer_id}"


class NotificationTemplate(models.Model):
    event_type = models.CharField(max_length=40, choices=Kind.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    subject = models.CharField(max_length=200, blank=True, help_text="E-mail only. Django template syntax.")
    body = models.TextField(help_text="Plain text, Django template syntax (see the context's README for variables).")
    enabled = models.BooleanField(default=True, help_text="Off: nothing is sent on this channel for this event.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["event_type", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["event_type", "channel"], name="notifications_template_event_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} / {self.channel}"


class CustomerPreference(models.Model):
    customer_id = models.CharField(max_length=100)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    category = models.CharField(max_length=16, choices=Category.choices)
    opted_out = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["customer_id", "channel", "category"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer_id", "channel", "category"], name="notifications_preference_unique"
            ),
            models.CheckConstraint(
                condition=~Q(category="security", opted_out=True), name="notifications_security_not_optional"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.channel}/{self.category}: {'out' if self.opted_out else 'in'}"


class Notification(models.Model):
    public_id = PublicIdField(prefix="ntf")
    event_id = models.CharField(max_length=40)
    event_type = models.CharField(max_length=64)  # the source event's type
    kind = models.CharField(max_length=40, choices=Kind.choices)
    category = models.CharField(max_length=16, choices=Category.choices)
    customer_id = models.CharField(max_length=100)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    template_source = models.CharField(max_length=8, blank=True)  # default | tenant
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    variables = models.JSONField(default=dict)  # what the template saw: ids, codes, amounts; never contact data
    last_error = models.CharField(max_length=500, blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # A redelivered event sends nothing twice. `kind` is part of it: a transfer between two
            # wallets of one customer is both money out and money in for that customer.
            models.UniqueConstraint(
                fields=["event_id", "kind", "channel", "customer_id"], name="notifications_once_per_event"
            ),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="notifications_due", condition=Q(status="pending")),
            models.Index(fields=["customer_id", "-id"], name="notifications_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.kind}/{self.channel} {self.status}"


class SandboxMessage(models.Model):
    channel = models.CharField(max_length=8, choices=Channel.choices)
    to = EncryptedTextField()
    body = models.TextField()
    notification_id = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.channel} {self.notification_id}"
