"""Orchestration in a tenant's back office: operations (sagas) with their state, what each step
obtained and why they failed, and "Resume now" for an unfinished one (what the beat sweep would
do at its lease's end: run its next step, or poll what it waits for). Resuming is audited."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction

from finfactory.audit.services import audit_lock, audit_record
from finfactory.readonly_admin import ReadOnlyModelAdmin, TenantOnlyAdmin
from finfactory.request_context import acting_as

from .models import TERMINAL, Operation, Payout, ProductConfig, WalletAccount
from .saga import operation_run
from .workflows import WORKFLOWS


@admin.register(Operation)
class OperationAdmin(TenantOnlyAdmin, ReadOnlyModelAdmin):
    list_display = ("public_id", "kind", "status", "amount", "fee", "currency", "wallet_id", "failure_code",
                    "attempts", "next_attempt_at", "created_at")  # fmt: skip
    list_filter = ("kind", "status", "compensated")
    search_fields = ("=public_id", "=reference", "=wallet_id", "=entry_id", "=hold_id", "=assessment_id")
    actions = ["resume"]

    def has_resume_permission(self, request) -> bool:
        return request.user.has_perm("products.change_operation")

    @admin.action(description="Resume now (run the next step of unfinished operations)", permissions=["resume"])
    def resume(self, request, queryset):
        actor = f"user:{request.user.get_username()}"
        for public_id, status in queryset.values_list("public_id", "status"):
            if status in TERMINAL:
                self.message_user(request, f"{public_id}: already {status}.", messages.WARNING)
                continue
            with acting_as(actor):
                with transaction.atomic():
                    audit_lock()
                    audit_record(action="operation.resumed", target_type="operation", target_id=public_id,
                                 before={"status": status}, reason="resumed from the back office")  # fmt: skip
                after = operation_run(public_id, WORKFLOWS)
            self.message_user(request, f"{public_id}: {status} → {after.status}.", messages.SUCCESS)


@admin.register(Payout)
class PayoutAdmin(TenantOnlyAdmin, ReadOnlyModelAdmin):
    list_display = ("public_id", "operation", "adapter", "amount", "currency", "status", "failure_reason",
                    "submitted_at", "decided_at")  # fmt: skip
    list_filter = ("status", "adapter")


@admin.register(WalletAccount)
class WalletAccountAdmin(TenantOnlyAdmin, ReadOnlyModelAdmin):
    list_display = ("wallet_id", "account_id", "customer_id", "currency", "created_at")
    search_fields = ("=wallet_id", "=account_id", "=customer_id")


@admin.register(ProductConfig)
class ProductConfigAdmin(TenantOnlyAdmin, ReadOnlyModelAdmin):
    list_display = ("template", "template_version", "version", "updated_at")
