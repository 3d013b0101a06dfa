"""Identity in a tenant's back office.

Customers and KYC cases are read-only and show personal data masked (initials, `j•••@domain`,
the last digits of a phone or ID number, the country of an address): the admin is for finding a
case and seeing where it stands, not for reading files. The watchlist is edited here (audited by
field name). A risk flag is cleared by requesting a clearance (with a reason) that a second
member of staff approves under Approval requests.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from finfactory.errors import InvalidInput, PlatformError
from finfactory.pii import initials, mask, mask_email
from finfactory.readonly_admin import ReadOnlyModelAdmin, TenantOnlyAdmin

from . import validation
from .clearance import risk_flag_clearance_request
from .models import Customer, KycCase, KycSubmission, RiskFlag, WatchlistEntry
from .risk import watchlist_entry_save


def _actor(request) -> str:
    return f"user:{request.user.get_username()}"


@admin.register(Customer)
class CustomerAdmin(TenantOnlyAdmin, ReadOnlyModelAdmin):
    list_display = ("public_id", "external_id", "name", "email_masked", "kyc_status", "kyc_level", "created_at")
    list_filter = ("kyc_case__status", "kyc_case__level")
    search_fields = ("=public_id", "=external_id")
    search_help_text = "Customer id, external id, or a phone number in E.164 (exact)."
    list_select_related = ("kyc_case",)
    fields = readonly_fields = (
        "public_id",
        "external_id",
        "name",
        "email_masked",
        "phone_masked",
        "birth_date_masked",
        "address_country",
        "kyc_status",
        "kyc_level",
        "created_at",
        "updated_at",
    )
    show_full_result_count = False

    @admin.display(description="Name")
    def name(self, obj) -> str:
        return initials(obj.first_name, obj.last_name)

    @admin.display(description="E-mail")
    def email_masked(self, obj) -> str:
        return mask_email(obj.email)

    @admin.display(description="Phone")
    def phone_masked(self, obj) -> str:
        return mask(obj.phone, visible=4)

    @admin.display(description="Birth date")
    def birth_date_masked(self, obj) -> str:
        return mask("0000-00-00") if obj.birth_date else ""

    @admin.display(description="Address (country)")
    def address_country(self, obj) -> str:
        return obj.address["country"] if obj.address else ""

    @admin.display(description="KYC status", ordering="kyc_case__status")
    def kyc_status(self, obj) -> str:
        return obj.kyc_case.status

    @admin.display(description="KYC level")
    def kyc_level(self, obj) -> str:
        return obj.kyc_case.level if obj.kyc_case.status == "verified" else "none"

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if term.startswith("+"):
            try:
                phone = validation.phone(term)
            except InvalidInput:
                return queryset.none(), False
            index = Customer._meta.get_field("phone_index").index_of(phone)
            return queryset.filter(phone_index=index), False
        return super().get_search_results(request, queryset, search_term)


class SubmissionInline(admin.TabularInline):
    model = KycSubmission
    fk_name = "case"
    fields = readonly_fields = (
        "public_id",
        "number",
        "id_type",
        "id_number_masked",
        "requested_level",
        "provider",
        "provider_reference",
        "status",
        "decided_level",
        "reason",
        "submitted_at",
        "sent_at",
        "decided_at",
    )
    ordering = ("-number",)
    extra = 0
    can_delete = False

    @admin.display(description="ID number")
    def id_number_masked(self, obj) -> str:
        return mask(obj.id_number, visible=4)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(KycCase)
class KycCaseAdmin(TenantOnlyAdmin, ReadOnlyModelAdmin):
    list_display = ("public_id", "customer", "status", "level", "attempts", "rejections", "expires_at", "updated_at")
    list_filter = ("status", "level")
    search_fields = ("=public_id", "=customer__public_id")
    list_select_related = ("customer",)
    fields = readonly_fields = (
        "public_id",
        "customer",
        "status",
        "level",
        "attempts",
        "rejections",
        "rejection_reason",
        "submitted_at",
        "verified_at",
        "expires_at",
        "rejected_at",
        "expired_at",
        "created_at",
        "updated_at",
    )
    inlines = [SubmissionInline]
    show_full_result_count = False


@admin.register(WatchlistEntry)
class WatchlistEntryAdmin(TenantOnlyAdmin, admin.ModelAdmin):
    list_display = ("public_id", "full_name", "list_name", "active", "updated_at")
    list_filter = ("active", "list_name")
    search_fields = ("full_name", "=public_id")
    fields = ("full_name", "list_name", "note", "active")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # flags point at entries: deactivate one instead

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        watchlist_entry_save(
            entry=obj, full_name=data["full_name"], list_name=data["list_name"], note=data.get("note", ""),
            active=data.get("active", False), actor=_actor(request),
        )  # fmt: skip


@admin.register(RiskFlag)
class RiskFlagAdmin(TenantOnlyAdmin, ReadOnlyModelAdmin):
    list_display = ("public_id", "customer", "watchlist_entry", "list_name", "score", "status", "clearance_approval_id",
                    "created_at")  # fmt: skip
    list_filter = ("status",)
    search_fields = ("=public_id", "=customer__public_id", "=clearance_approval_id")
    list_select_related = ("customer", "watchlist_entry")
    fields = readonly_fields = (
        "public_id",
        "customer",
        "watchlist_entry",
        "list_name",
        "score",
        "status",
        "clearance_approval_id",
        "cleared_by",
        "cleared_at",
        "created_at",
    )
    actions = ["request_clearance"]

    @admin.display(description="List")
    def list_name(self, obj) -> str:
        return obj.watchlist_entry.list_name

    def has_request_clearance_permission(self, request) -> bool:
        # Makers are Operators (change on the tenant apps' models); the checker must be an Approver.
        return request.user.has_perm("identity.change_riskflag")

    @admin.action(
        description="Request clearance of selected flags (needs a second person's approval)",
        permissions=["request_clearance"],
    )
    def request_clearance(self, request, queryset):
        reason = request.POST.get("reason", "").strip()
        if "apply" not in request.POST or not reason:
            return TemplateResponse(
                request,
                "admin/identity/riskflag/clearance_reason.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Request clearance of risk flags",
                    "opts": self.model._meta,
                    "queryset": queryset,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                    "missing_reason": "apply" in request.POST,
                },
            )
        for flag in queryset:
            try:
                approval = risk_flag_clearance_request(flag_id=flag.public_id, requested_by=request.user, reason=reason)
            except PlatformError as error:
                self.message_user(request, f"{flag.public_id}: {error.detail}", messages.ERROR)
                continue
            self.message_user(
                request, f"{flag.public_id}: clearance requested ({approval.public_id}), awaiting approval.",
                messages.SUCCESS,
            )  # fmt: skip
        return None
