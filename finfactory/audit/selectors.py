"""Reading the audit trail of the current schema (kernel-internal)."""

from datetime import datetime

from django.db.models import QuerySet

from finfactory.audit.models import AuditRecord


def audit_records_for_target(*, target_type: str, target_id: str | int) -> QuerySet[AuditRecord]:
    return AuditRecord.objects.filter(target_type=target_type, target_id=str(target_id)).order_by("id")


def audit_records_between(*, start: datetime, end: datetime) -> QuerySet[AuditRecord]:
    """Records with start <= occurred_at < end, in chain order."""
    return AuditRecord.objects.filter(occurred_at__gte=start, occurred_at__lt=end).order_by("id")
