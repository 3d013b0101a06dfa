"""API keys live in the public schema so that a key resolves its tenant before any tenant query.

Only a SHA-256 digest of a key and its visible prefix are stored; the key itself is shown once.
"""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from finfactory.ids import PublicIdField


class KeyKind(models.TextChoices):
    TENANT = "tenant", "Tenant API key"
    PLATFORM = "platform", "Platform operator key"


class KeyMode(models.TextChoices):
    TEST = "test", "Sandbox (ff_test_)"
    LIVE = "live", "Live (ff_live_)"


class ApiKey(models.Model):
    public_id = PublicIdField(prefix="key")
    kind = models.CharField(max_length=16, choices=KeyKind.choices)
    tenant = models.ForeignKey(
        "tenancy.Tenant", null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    mode = models.CharField(max_length=8, choices=KeyMode.choices, default=KeyMode.TEST)
    prefix = models.CharField(max_length=24, help_text="The first characters of the key, for recognition.")
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the key, hex.")
    scopes = ArrayField(models.CharField(max_length=40), default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=200, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Set when the key was rotated.")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.CharField(max_length=200, blank=True)
    replaced_by = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaces"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="apikey_tenant_matches_kind",
                condition=(Q(kind="tenant") & Q(tenant__isnull=False)) | (Q(kind="platform") & Q(tenant__isnull=True)),
            ),
        ]
        indexes = [models.Index(fields=["tenant", "-created_at", "-id"], name="apikey_tenant_recent")]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"
