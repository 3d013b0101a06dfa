"""Stored configuration values: one table per schema (public = global, a tenant's = that tenant's)."""

from django.db import models

from finfactory.tenantconfig.registry import KEY_MAX_LENGTH


class ConfigValue(models.Model):
    """A value that overrides a registered key's default, in the schema the row lives in.

    Written only through `finfactory.tenantconfig.services` (config_set / config_unset), which
    validate, audit and invalidate the caches. No row means "not set here".
    """

    key = models.CharField(max_length=KEY_MAX_LENGTH, unique=True)
    value = models.JSONField()
    reason = models.TextField()
    updated_by = models.CharField(max_length=200)
    updated_at = models.DateTimeField()
    # 1 when first set, +1 on every change; restarts after an unset (the audit trail keeps the story).
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["key"]
        verbose_name = "configuration value"

    def __str__(self) -> str:
        return self.key
