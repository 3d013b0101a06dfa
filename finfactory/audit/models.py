"""The audit trail: one row per material action, chained by hash within a schema (a tenant)."""

from django.db import models

from finfactory.ids import PublicIdField


class AuditRecord(models.Model):
    """Append-only: the database refuses UPDATE, DELETE and TRUNCATE (see migration 0001).

    Write through `finfactory.audit.services.audit_record`, which fills the chain fields.
    """

    id = models.BigAutoField(primary_key=True)
    public_id = PublicIdField(prefix="aud")
    # Set in Python, not by the database, because the value is part of the hashed record.
    occurred_at = models.DateTimeField()
    actor = models.CharField(max_length=200)
    tenant = models.CharField(max_length=63)
    action = models.CharField(max_length=100)
    target_type = models.CharField(max_length=60)
    target_id = models.CharField(max_length=100)
    reason = models.TextField(blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    request_id = models.CharField(max_length=140, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        db_table = "audit_record"
        ordering = ["id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_record_target_idx"),
            models.Index(fields=["occurred_at"], name="audit_record_occurred_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.action} {self.target_type}:{self.target_id}"
