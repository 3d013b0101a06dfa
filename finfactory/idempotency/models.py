from django.db import models


class IdempotencyRecord(models.Model):
    """The first final response to a request made with an Idempotency-Key.

    Written in the same transaction as the request's effect: both commit or neither does.
    Lives in the schema the request ran in (a tenant's, or public for platform calls).
    """

    owner = models.CharField(max_length=40, help_text="Public id of the API key the key is scoped to.")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and canonical body.")
    # SHA-256 per top-level body field, to name the fields that differ on reuse without keeping values.
    field_digests = models.JSONField(default=dict)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.BinaryField(help_text="Encrypted JSON (finfactory.crypto).")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="idempotency_owner_key_unique")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"
