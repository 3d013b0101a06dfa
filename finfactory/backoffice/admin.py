"""Approval requests in the tenant's admin: read-only records, decided through the services."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from finfactory.backoffice.models import ApprovalRequest, ApprovalStatus
from finfactory.backoffice.services import approval_approve, approval_reject
from finfactory.errors import PlatformError
from finfactory.readonly_admin import ReadOnlyModelAdmin


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyModelAdmin):
    list_display = ("public_id", "action", "status", "requested_by", "decided_by", "created_at", "decided_at")
    list_filter = ("status", "action")
    search_fields = ("public_id", "action")
    list_select_related = ("requested_by", "decided_by")
    readonly_fields = [field.name for field in ApprovalRequest._meta.fields]
    actions = ["approve_selected", "reject_selected"]

    # Requests are made by the flows that need them (approval_request_create) and never edited
    # or deleted: a decision is a transition, recorded in the audit trail.

    @admin.action(description="Approve selected requests")
    def approve_selected(self, request, queryset):
        for approval in queryset:
            try:
                decided = approval_approve(approval_id=approval.public_id, approver=request.user)
            except PlatformError as exc:
                self.message_user(request, f"{approval.public_id}: {exc.detail}", messages.ERROR)
                continue
            level = messages.SUCCESS if decided.status == ApprovalStatus.EXECUTED else messages.WARNING
            detail = f" ({decided.error})" if decided.error else ""
            self.message_user(request, f"{decided.public_id}: {decided.status}{detail}", level)

    @admin.action(description="Reject selected requests")
    def reject_selected(self, request, queryset):
        reason = request.POST.get("reason", "").strip()
        if "apply" not in request.POST or not reason:
            # Ask for the reason on an intermediate page, as delete_selected asks for confirmation.
            return TemplateResponse(
                request,
                "admin/backoffice/approvalrequest/reject_reason.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Reject approval requests",
                    "opts": self.model._meta,
                    "queryset": queryset,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                    "missing_reason": "apply" in request.POST,
                },
            )
        for approval in queryset:
            try:
                approval_reject(approval_id=approval.public_id, approver=request.user, reason=reason)
            except PlatformError as exc:
                self.message_user(request, f"{approval.public_id}: {exc.detail}", messages.ERROR)
                continue
            self.message_user(request, f"{approval.public_id}: rejected", messages.SUCCESS)
        return None
