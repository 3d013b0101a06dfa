"""The ledger in a tenant's back office: accounts, journal entries and holds, read-only, and the
trial balance. Money moves only through contexts.ledger.api; amounts are shown in major units."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path

from finfactory.money import format_minor
from finfactory.readonly_admin import ReadOnlyModelAdmin, TenantOnlyAdmin

from .models import Account, Hold, JournalEntry, Posting
from .selectors import trial_balance


def _money(field: str, description: str):
    @admin.display(description=description)
    def show(self, obj) -> str:
        amount = getattr(obj, field)
        return "" if amount is None else format_minor(amount, obj.currency)

    return show


class LedgerAdmin(TenantOnlyAdmin, ReadOnlyModelAdmin):
    """Ledger tables exist in tenant schemas only: the public admin does not offer them."""


@admin.register(Account)
class AccountAdmin(LedgerAdmin):
    list_display = (
        "public_id",
        "name",
        "system_code",
        "type",
        "currency",
        "posted_amount",
        "held_amount",
        "available_amount",
        "status",
    )
    list_filter = ("currency", "type", "status")
    search_fields = ("=public_id", "=owner_ref")
    fields = readonly_fields = (
        "public_id",
        "name",
        "system_code",
        "owner_ref",
        "type",
        "normal_balance",
        "currency",
        "status",
        "posted_amount",
        "held_amount",
        "available_amount",
        "overdraft_limit_amount",
        "max_balance_amount",
        "last_sequence",
        "created_at",
        "updated_at",
    )
    show_full_result_count = False
    change_list_template = "admin/ledger/account/change_list.html"

    posted_amount = _money("posted", "Posted")
    held_amount = _money("held", "Held")
    available_amount = _money("available", "Available")
    overdraft_limit_amount = _money("overdraft_limit", "Overdraft limit")
    max_balance_amount = _money("max_balance", "Max balance")

    def get_urls(self):
        # Before the default routes: "<object_id>/" would otherwise take "trial-balance/".
        return [
            path(
                "trial-balance/",
                self.admin_site.admin_view(self.trial_balance_view),
                name="ledger_account_trial_balance",
            ),
            *super().get_urls(),
        ]

    def trial_balance_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        rows = [
            {
                "currency": row.currency,
                "debit_normal": format_minor(row.debit_normal_total, row.currency),
                "credit_normal": format_minor(row.credit_normal_total, row.currency),
                "difference": format_minor(row.difference, row.currency),
                "balanced": row.difference == 0,
                "accounts": row.accounts,
            }
            for row in trial_balance()
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Trial balance",
            "opts": self.model._meta,
            "rows": rows,
            "balanced": all(row["balanced"] for row in rows),
        }
        return TemplateResponse(request, "admin/ledger/account/trial_balance.html", context)


class PostingInline(admin.TabularInline):
    model = Posting
    fields = readonly_fields = (
        "line",
        "account",
        "direction",
        "amount_shown",
        "currency",
        "sequence",
        "balance_after_shown",
        "posted_at",
    )
    ordering = ("line",)
    extra = 0
    can_delete = False
    show_change_link = False

    amount_shown = _money("amount", "Amount")
    balance_after_shown = _money("balance_after", "Balance after")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(JournalEntry)
class JournalEntryAdmin(LedgerAdmin):
    list_display = ("public_id", "kind", "external_ref", "description", "effective_at", "posted_at")
    list_filter = ("kind",)
    search_fields = ("=public_id", "=external_ref")
    readonly_fields = [field.name for field in JournalEntry._meta.fields]
    list_select_related = ("reverses", "hold")
    inlines = [PostingInline]
    show_full_result_count = False


@admin.register(Hold)
class HoldAdmin(LedgerAdmin):
    list_display = (
        "public_id",
        "account",
        "credit_account",
        "amount_shown",
        "captured_amount_shown",
        "status",
        "expires_at",
        "created_at",
    )
    list_filter = ("status", "currency")
    search_fields = ("=public_id", "=external_ref")
    list_select_related = ("account", "credit_account")
    fields = readonly_fields = (
        "public_id",
        "external_ref",
        "account",
        "credit_account",
        "amount_shown",
        "captured_amount_shown",
        "currency",
        "status",
        "description",
        "metadata",
        "expires_at",
        "created_at",
        "finished_at",
    )
    show_full_result_count = False

    amount_shown = _money("amount", "Amount")
    captured_amount_shown = _money("captured_amount", "Captured")
