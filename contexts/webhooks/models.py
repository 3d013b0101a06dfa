"""Webhook tables, per tenant (schema). Private to contexts.webhooks: other contexts use its api.

- `WebhookEndpoint` (`we_…`): a URL of the tenant's that wants events, the event type patterns
  it subscribed to, and its signing secret. The secret is a Fernet token (finfactory.crypto,
  rotatable ENCRYPTION_KEYS; `pii_reencrypt` re-encrypts it with every other encrypted column);
  only its last four characters are kept in clear, for display. `previous_secret` is the secret a
  rotation replaced, still valid until `previous_secret_expires_at` (deliveries signed with both
  meanwhile). Deleting is soft (`deleted_at`): the endpoint leaves the API and stops receiving,
  and the delivery log may still name it.
- `WebhookDelivery` (`whd_…`): one event for one endpoint (unique (endpoint, event id)), with the
  exact JSON body sent, its status (pending → delivered | failed), attempts and next attempt.
- `WebhookDeliveryAttempt`: the delivery log — one row per HTTP attempt (or refusal).
"""

from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import F, Func, Q, Value
from django.db.models.lookups import Exact

from finfactory.ids import PublicIdField
from finfactory.pii import EncryptedTextField

MAX_URL_LENGTH = 2048
_JSONB_TYPE = Func(F("events"), function="jsonb_typeof", output_field=models.TextField())


class WebhookEndpoint(models.Model):
    public_id = PublicIdField(prefix="we")
    url = models.CharField(max_length=MAX_URL_LENGTH, help_text="Absolute http(s) URL events are POSTed to.")
    events = models.JSONField(help_text='Event type patterns: exact names, "<prefix>.*" or "*".')
    description = models.CharField(max_length=500, blank=True)
    secret = EncryptedTextField(help_text="Signing secret (whsec_…), encrypted.")
    secret_last4 = models.CharField(max_length=4, help_text="Last characters of the secret, for display.")
    previous_secret = EncryptedTextField(null=True, blank=True, help_text="The secret a rotation replaced, encrypted.")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Delivery health: failed attempts in a row (any 2xx resets) and when the streak began.
    failure_streak = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            # endpoints_for_event: `events ?| [candidates]` over the live, enabled endpoints.
            GinIndex(
                fields=["events"], name="webhooks_endpoint_events", condition=Q(enabled=True, deleted_at__isnull=True)
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(url__startswith="https://") | Q(url__startswith="http://"),
                name="webhooks_endpoint_url_http",
            ),
            models.CheckConstraint(
                condition=Exact(_JSONB_TYPE, Value("array")),
                name="webhooks_endpoint_events_array",
            ),
            # A rotation's overlap has an end; no end without a previous secret.
            models.CheckConstraint(
                condition=Q(previous_secret__isnull=True, previous_secret_expires_at__isnull=True)
                | Q(previous_secret__isnull=False, previous_secret_expires_at__isnull=False),
                name="webhooks_endpoint_previous_secret_expires",
            ),
            # A deleted endpoint never receives anything, whatever a later change of `enabled`.
            models.CheckConstraint(
                condition=Q(deleted_at__isnull=True) | Q(enabled=False), name="webhooks_endpoint_deleted_disabled"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.url}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookDelivery(models.Model):
    public_id = PublicIdField(prefix="whd")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries")
    event_id = models.CharField(max_length=64)
    event_type = models.CharField(max_length=200)
    aggregate_type = models.CharField(max_length=100)
    aggregate_id = models.CharField(max_length=100)
    sequence = models.BigIntegerField(
        help_text="The event's per-aggregate sequence (deliveries may arrive out of order)."
    )
    payload = models.TextField(help_text="The exact JSON body POSTed (UTF-8), re-sent as is.")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    redelivery_requested = models.BooleanField(default=False, help_text="The next attempt is a manual redelivery.")
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhooks_delivery_endpoint_event"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="webhooks_delivery_due", condition=Q(status="pending")),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.event_type} → {self.endpoint_id}"


class WebhookDeliveryAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True, help_text="Error class when no HTTP answer was had.")
    latency_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.TextField(blank=True, help_text="First 1 KB of the response body.")
    manual = models.BooleanField(default=False, help_text="A redelivery asked by the tenant or an operator.")
    at = models.DateTimeField()

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhooks_attempt_delivery_number"),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.status_code or self.error}"
