"""Wallets in a tenant's back office.

Every record is read-only here: a direct edit would bypass the lifecycle, the events and the
audit trail. What staff may do goes through the services:

- Operators (and Approvers) suspend and reactivate wallets, with a reason, as admin actions;
- a tier's limits change only under maker-checker: an Operator requests the change (validated
  when asked), a different Approver approves it in Approval requests, then it applies.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from finfactory.backoffice.services import approval_request_create
from finfactory.errors import PlatformError
from finfactory.money import format_minor
from finfactory.readonly_admin import ReadOnlyModelAdmin, TenantOnlyAdmin
from finfactory.request_context import acting_as

from . import services, validation
from .approvals import TIER_LIMIT_CHANGE, tier_limit_change_payload
from .models import CustomerKyc, LimitPolicy, LimitReservation, LimitUsage, Tier, TierFlowLimit, Wallet
from .tiers import CHANGEABLE_FIELDS, parse_major_units, tier_limit_changed, tier_limit_value, tiers_get

OPERATE_PERMISSION = "wallets.change_wallet"
REQUEST_LIMIT_CHANGE_PERMISSION = "wallets.change_tier"


def _money(field: str, description: str, currency_from=lambda obj: obj.currency):
    @admin.display(description=description)
    def show(self, obj) -> str:
        amount = getattr(obj, field)
        return "no limit" if amount is None else format_minor(amount, currency_from(obj))

    return show


def _error_text(exc: PlatformError) -> str:
    return "; ".join(f"{e.field}: {e.message}" for e in exc.errors) or exc.detail


class WalletsAdmin(TenantOnlyAdmin, ReadOnlyModelAdmin):
    """Wallet tables exist in tenant schemas only: the public admin does not offer them."""


class LimitUsageInline(admin.TabularInline):
    model = LimitUsage
    fields = readonly_fields = (
        "kind", "day", "day_amount_shown", "day_count", "month", "month_amount_shown", "month_count",
    )  # fmt: skip
    extra = 0
    can_delete = False
    verbose_name_plural = "Usage in the latest day and month counted"

    day_amount_shown = _money("day_amount", "Day amount", lambda obj: obj.wallet.currency)
    month_amount_shown = _money("month_amount", "Month amount", lambda obj: obj.wallet.currency)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Wallet)
class WalletAdmin(WalletsAdmin):
    list_display = ("public_id", "customer_id", "currency", "status", "kyc_level", "tier", "created_at")
    list_filter = ("status", "currency", "kyc_level")
    search_fields = ("=public_id", "=customer_id")
    fields = readonly_fields = (
        "public_id", "customer_id", "currency", "status", "status_reason", "kyc_level", "tier", "created_at",
        "updated_at", "closed_at",
    )  # fmt: skip
    inlines = [LimitUsageInline]
    actions = ["suspend_selected", "activate_selected"]
    show_full_result_count = False

    @admin.display(description="Tier", ordering="tier_code")
    def tier(self, obj) -> str:
        return obj.tier_code or ""

    def get_queryset(self, request):
        # The tier follows from (KYC level, currency) through the tenant's schedule.
        tier = Tier.objects.filter(kyc_level=OuterRef("kyc_level"), currency=OuterRef("currency")).values("code")
        return super().get_queryset(request).annotate(tier_code=Subquery(tier[:1]))

    def has_operate_permission(self, request) -> bool:
        return self._in_tenant() and request.user.has_perm(OPERATE_PERMISSION)

    @admin.action(description="Suspend selected wallets", permissions=["operate"])
    def suspend_selected(self, request, queryset):
        return self._transition(request, queryset, "suspend_selected", "Suspend", services.wallet_suspend)

    @admin.action(description="Reactivate selected wallets", permissions=["operate"])
    def activate_selected(self, request, queryset):
        return self._transition(request, queryset, "activate_selected", "Reactivate", services.wallet_activate)

    def _transition(self, request, queryset, action: str, verb: str, service):
        reason = request.POST.get("reason", "").strip()
        if "apply" not in request.POST or not reason:
            # Ask for the reason on an intermediate page, as delete_selected asks for confirmation.
            return TemplateResponse(
                request,
                "admin/wallets/wallet/transition_reason.html",
                {
                    **self.admin_site.each_context(request),
                    "title": f"{verb} wallets",
                    "verb": verb,
                    "opts": self.model._meta,
                    "queryset": queryset,
                    "action": action,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                    "missing_reason": "apply" in request.POST,
                },
            )
        with acting_as(f"user:{request.user.get_username()}", request_id=getattr(request, "request_id", None)):
            for wallet in queryset.order_by("id"):
                try:
                    done = service(wallet_id=wallet.public_id, reason=reason)
                except PlatformError as exc:
                    self.message_user(request, f"{wallet.public_id}: {exc.detail}", messages.ERROR)
                    continue
                self.message_user(request, f"{done.id}: {done.status}", messages.SUCCESS)
        return None


class TierFlowLimitInline(admin.TabularInline):
    model = TierFlowLimit
    fields = readonly_fields = (
        "kind", "min_shown", "max_shown", "daily_amount_shown", "daily_count", "monthly_amount_shown",
        "monthly_count",
    )  # fmt: skip
    extra = 0
    can_delete = False

    min_shown = _money("min_amount", "Min per movement", lambda obj: obj.tier.currency)
    max_shown = _money("max_amount", "Max per movement", lambda obj: obj.tier.currency)
    daily_amount_shown = _money("daily_amount", "Daily amount", lambda obj: obj.tier.currency)
    monthly_amount_shown = _money("monthly_amount", "Monthly amount", lambda obj: obj.tier.currency)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class TierLimitChangeForm(forms.Form):
    field = forms.ChoiceField(choices=[(name, name) for name in CHANGEABLE_FIELDS], label="Limit")
    value = forms.CharField(
        required=False,
        help_text="Amounts in major units (e.g. 1500.00); counts as whole numbers; empty for no limit.",
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), max_length=500)


@admin.register(Tier)
class TierAdmin(WalletsAdmin):
    list_display = ("code", "name", "currency", "kyc_level", "max_balance_shown", "request_change")
    list_filter = ("currency",)
    fields = readonly_fields = ("code", "name", "currency", "kyc_level", "max_balance_shown")
    inlines = [TierFlowLimitInline]

    max_balance_shown = _money("max_balance", "Max balance")

    @admin.display(description="")
    def request_change(self, obj) -> str:
        url = reverse("admin:wallets_tier_request_change", args=[obj.pk])
        return format_html('<a href="{}">Request a limit change</a>', url)

    def get_urls(self):
        return [
            path(
                "<int:tier_pk>/request-change/",
                self.admin_site.admin_view(self.request_change_view),
                name="wallets_tier_request_change",
            ),
            *super().get_urls(),
        ]

    def request_change_view(self, request, tier_pk: int):
        """An Operator asks for one limit of one tier to change; an Approver decides later."""
        if not (self._in_tenant() and request.user.has_perm(REQUEST_LIMIT_CHANGE_PERMISSION)):
            raise PermissionDenied
        tier = get_object_or_404(Tier, pk=tier_pk)
        form = TierLimitChangeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            field = form.cleaned_data["field"]
            try:
                value = self._parse_value(form.cleaned_data["value"], field, tier.currency)
                schedule = tiers_get().schedule
                tier_limit_changed(schedule, tier=tier.code, currency=tier.currency, field=field, value=value)
                approval = approval_request_create(
                    action=TIER_LIMIT_CHANGE,
                    payload=tier_limit_change_payload(tier=tier.code, currency=tier.currency, field=field, value=value),
                    requested_by=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except PlatformError as exc:
                form.add_error(None, _error_text(exc))
            else:
                self.message_user(
                    request, f"{approval.public_id}: change requested; an Approver must approve it.", messages.SUCCESS
                )
                return redirect(reverse("admin:backoffice_approvalrequest_change", args=[approval.pk]))
        schedule = tiers_get().schedule
        current = [
            (name, tier_limit_value(schedule, tier=tier.code, currency=tier.currency, field=name))
            for name in CHANGEABLE_FIELDS
        ]
        return TemplateResponse(
            request,
            "admin/wallets/tier/request_change.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Request a limit change: {tier.code} ({tier.currency})",
                "opts": self.model._meta,
                "tier": tier,
                "form": form,
                "current": [
                    (name, "no limit" if value is None else value if name.endswith("_count") else
                     format_minor(value, tier.currency))
                    for name, value in current
                ],
            },
        )  # fmt: skip

    @staticmethod
    def _parse_value(raw: str, field: str, currency: str) -> int | None:
        if not field.endswith("_count"):
            return parse_major_units(raw, currency)
        if not raw.strip():
            return None
        if not raw.strip().isdigit():
            raise validation.invalid("value", "Must be a whole number.", "invalid_count")
        return int(raw.strip())


@admin.register(LimitPolicy)
class LimitPolicyAdmin(WalletsAdmin):
    list_display = ("version", "source", "template", "time_zone", "updated_at")


@admin.register(LimitReservation)
class LimitReservationAdmin(WalletsAdmin):
    list_display = ("reference", "wallet", "kind", "amount_shown", "status", "day", "created_at", "released_at")
    list_filter = ("status", "kind")
    search_fields = ("=reference", "=public_id", "=wallet__public_id")
    list_select_related = ("wallet",)
    fields = readonly_fields = (
        "public_id", "reference", "wallet", "kind", "amount_shown", "currency", "status", "day", "month",
        "created_at", "released_at",
    )  # fmt: skip
    show_full_result_count = False

    amount_shown = _money("amount", "Amount")


@admin.register(CustomerKyc)
class CustomerKycAdmin(WalletsAdmin):
    list_display = ("customer_id", "level", "event_type", "occurred_at")
    search_fields = ("=customer_id",)
