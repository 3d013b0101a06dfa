"""Maker-checker requests: one member of staff asks, another approves, then the action runs."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition

from finfactory.ids import PublicIdField


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    EXECUTED = "executed", "Executed"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"
    FAILED = "failed", "Failed"


class ApprovalRequest(FSMModelMixin, models.Model):
    """A request to run a registered action (finfactory.backoffice.approvals) once approved.

    The status only changes through the transition methods; the services in
    finfactory.backoffice.services decide who may call them and record each one in the audit trail.
    """

    public_id = PublicIdField(prefix="apr")
    action = models.CharField(max_length=100)
    payload = models.JSONField(default=dict)
    reason = models.TextField()
    status = FSMField(max_length=16, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING, protected=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="approval_requests_made"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="approval_requests_decided",
    )
    decision_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="approval_status_created_idx")]
        permissions = [("approve_approvalrequest", "Can approve requests made by others")]

    def __str__(self) -> str:
        return f"{self.public_id} {self.action} ({self.status})"

    @transition(field=status, source=ApprovalStatus.PENDING, target=ApprovalStatus.APPROVED)
    def approve(self, *, by) -> None:
        self.decided_by = by
        self.decided_at = timezone.now()

    @transition(field=status, source=ApprovalStatus.APPROVED, target=ApprovalStatus.EXECUTED)
    def mark_executed(self, *, result: dict | None) -> None:
        self.result = result
        self.executed_at = timezone.now()

    @transition(field=status, source=ApprovalStatus.APPROVED, target=ApprovalStatus.FAILED)
    def mark_failed(self, *, error: str) -> None:
        self.error = error

    @transition(field=status, source=ApprovalStatus.PENDING, target=ApprovalStatus.REJECTED)
    def reject(self, *, by, reason: str) -> None:
        self.decided_by = by
        self.decided_at = timezone.now()
        self.decision_reason = reason

    @transition(field=status, source=ApprovalStatus.PENDING, target=ApprovalStatus.CANCELLED)
    def cancel(self) -> None:
        self.decided_at = timezone.now()
