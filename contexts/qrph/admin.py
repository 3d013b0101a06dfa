"""QR Ph in a tenant's back office.

- QR configuration (BIC, network) and merchant profiles are edited here, through the services
  (validated, audited); a profile's wallet, scheme and merchant id never change once created.
- Issued codes and payments are read-only: an edit would bypass the single-use rule, the state
  machine, the events and the audit trail.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import connection
from django_tenants.utils import get_public_schema_name

from finfactory.errors import PlatformError
from finfactory.money import format_minor
from finfactory.readonly_admin import ReadOnlyModelAdmin
from finfactory.request_context import acting_as

from . import services
from .models import MerchantProfile, QrCode, QrPayment, QrphSettings


class _TenantOnly:
    """QR tables exist in tenant schemas only: the public admin does not offer them."""

    def _in_tenant(self) -> bool:
        return connection.schema_name != get_public_schema_name()

    def has_module_permission(self, request) -> bool:
        return self._in_tenant() and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._in_tenant() and super().has_view_permission(request, obj)


def _errors_to_form(form: forms.Form, exc: PlatformError) -> None:
    for error in exc.errors or ():
        field = error.field if error.field in form.fields else None
        form.add_error(field, error.message)
    if not exc.errors:
        form.add_error(None, exc.detail)


class QrphSettingsForm(forms.ModelForm):
    class Meta:
        model = QrphSettings
        fields = ("bic", "network")

    def clean(self):
        cleaned = super().clean()
        from . import adapters, validation

        try:
            validation.bic(cleaned.get("bic"))
        except PlatformError as exc:
            raise ValidationError({"bic": exc.errors[0].message}) from None
        if cleaned.get("network") not in adapters.NETWORKS:
            raise ValidationError({"network": f"One of {', '.join(adapters.NETWORKS)}."})
        return cleaned


@admin.register(QrphSettings)
class QrphSettingsAdmin(_TenantOnly, admin.ModelAdmin):
    form = QrphSettingsForm
    list_display = ("bic", "network", "updated_at")

    def get_queryset(self, request):
        services.settings_row()  # the row with its sandbox defaults exists before anyone edits it
        return super().get_queryset(request)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        with acting_as(f"user:{request.user.pk}"):
            services.qrph_settings_update(bic=obj.bic, network=obj.network, reason="Changed in the admin")


class MerchantProfileForm(forms.ModelForm):
    class Meta:
        model = MerchantProfile
        fields = ("wallet_id", "scheme", "name", "city", "mcc", "postal_code")


@admin.register(MerchantProfile)
class MerchantProfileAdmin(_TenantOnly, admin.ModelAdmin):
    form = MerchantProfileForm
    list_display = ("public_id", "name", "city", "mcc", "scheme", "wallet_id", "merchant_id", "created_at")
    search_fields = ("public_id", "wallet_id", "merchant_id", "name")
    list_filter = ("scheme",)

    def get_readonly_fields(self, request, obj=None):
        fixed = ("public_id", "merchant_id", "created_at", "updated_at")
        return (*fixed, "wallet_id", "scheme") if obj is not None else fixed

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # issued codes point at the profile

    def save_model(self, request, obj, form, change) -> None:
        with acting_as(f"user:{request.user.pk}"):
            if change:
                saved = services.merchant_profile_update(
                    merchant_profile_id=obj.public_id, name=obj.name, city=obj.city, mcc=obj.mcc,
                    postal_code=obj.postal_code,
                )  # fmt: skip
            else:
                saved = services.merchant_profile_create(
                    wallet_id=obj.wallet_id, name=obj.name, city=obj.city, mcc=obj.mcc, scheme=obj.scheme,
                    postal_code=obj.postal_code or None,
                )  # fmt: skip
        row = MerchantProfile.objects.get(public_id=saved.id)
        obj.pk, obj.public_id, obj.merchant_id = row.pk, row.public_id, row.merchant_id

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        admin_self = self

        class ServiceValidatedForm(form):
            def _post_clean(self):
                super()._post_clean()
                admin_self._validate(self, obj)

        return ServiceValidatedForm

    def _validate(self, form, obj) -> None:
        from . import validation

        data = form.cleaned_data
        checks = [("name", 25), ("city", 15)]
        try:
            for field, limit in checks:
                if field in data:
                    validation.text(data[field], field, max_length=limit)
            if "mcc" in data:
                validation.mcc(data["mcc"])
            if data.get("postal_code"):
                validation.text(data["postal_code"], "postal_code", max_length=10)
            if obj is None and "wallet_id" in data:
                validation.wallet_id(data["wallet_id"])
                if MerchantProfile.objects.filter(wallet_id=data["wallet_id"]).exists():
                    form.add_error("wallet_id", "This wallet already has a merchant profile.")
        except PlatformError as exc:
            _errors_to_form(form, exc)


@admin.register(QrCode)
class QrCodeAdmin(_TenantOnly, ReadOnlyModelAdmin):
    list_display = ("public_id", "type", "amount_shown", "merchant", "expires_at", "created_at")
    list_filter = ("type",)
    search_fields = ("public_id", "merchant__public_id", "merchant__wallet_id", "reference_label")
    list_select_related = ("merchant",)

    @admin.display(description="Amount")
    def amount_shown(self, obj) -> str:
        return "payer enters it" if obj.amount is None else format_minor(obj.amount, obj.currency)


@admin.register(QrPayment)
class QrPaymentAdmin(_TenantOnly, ReadOnlyModelAdmin):
    list_display = ("public_id", "status", "route", "amount_shown", "payer_wallet_id", "receiving_wallet_id",
                    "created_at", "decided_at")  # fmt: skip
    list_filter = ("status", "route", "code_type")
    search_fields = ("public_id", "reference", "payer_wallet_id", "receiving_wallet_id", "network_reference")
    date_hierarchy = "created_at"

    @admin.display(description="Amount")
    def amount_shown(self, obj) -> str:
        return format_minor(obj.amount, obj.currency)
