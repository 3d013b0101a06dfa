"""Fraud in a tenant's back office.

- Rules: adding one, or saving the form of the version in force, makes a new version through
  services.rule_version_create (the old version stays, closed); every change is audited with
  the reason typed in the form. Superseded versions are read-only.
- Block list: entries are added with a reason and removed by an action that asks for one.
- Settings: thresholds and dual-control amounts, with a reason.
- Review cases: "Approve" and "Decline" ask for a reason; above the dual-control amount the
  decision becomes an approval request for an Approver (Approval requests).
- Models: activate, shadow or retire a trained version, with a reason.
- Assessments: read-only, with their reasons and features.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from finfactory.errors import PlatformError
from finfactory.readonly_admin import ReadOnlyModelAdmin, TenantOnlyAdmin
from finfactory.request_context import acting_as

from . import model_lifecycle, review, services, validation
from .features import FEATURES
from .models import (
    Assessment,
    BlockListEntry,
    FraudSettings,
    ModelVersion,
    ReviewCase,
    Rule,
    RuleAction,
    RuleKind,
)
from .selectors import settings_get


def _actor(request) -> str:
    return f"user:{request.user.get_username()}"


def _error_text(exc: PlatformError) -> str:
    return "; ".join(f"{e.field}: {e.message}" for e in exc.errors) or exc.detail


def _form_errors(form: forms.Form, exc: PlatformError) -> None:
    """Put a refusal's field errors on the form's fields (params.x on params)."""
    for error in exc.errors or []:
        name = error.field.split(".")[0]
        form.add_error(name if name in form.fields else None, error.message)
    if not exc.errors:
        form.add_error(None, exc.detail)


def _reason_step(modeladmin, request, queryset, *, action: str, title: str, prompt: str):
    """The intermediate page of an action that needs a reason; None once a reason was given."""
    reason = request.POST.get("reason", "").strip()
    if "apply" in request.POST and reason:
        return None
    return TemplateResponse(
        request,
        "admin/fraud/reason.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "prompt": prompt,
            "opts": modeladmin.model._meta,
            "queryset": queryset,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "missing_reason": "apply" in request.POST,
        },
    )


class RuleForm(forms.ModelForm):
    reason = forms.CharField(max_length=500, help_text="Why this version is made (audited).")
    params = forms.JSONField(help_text="Parameters of the kind (see contexts/fraud/README.md).")
    effective_from = forms.DateTimeField(required=False, help_text="Empty: now.")

    class Meta:
        model = Rule
        fields = ("code", "name", "kind", "params", "action", "weight", "enabled", "effective_from")

    def clean(self):
        cleaned = super().clean()
        try:
            if cleaned.get("kind") in RuleKind.values:
                cleaned["params"] = validation.rule_params(cleaned["kind"], cleaned.get("params"))
        except PlatformError as exc:
            _form_errors(self, exc)
        return cleaned

    def validate_unique(self):
        # A saved form is a new version: (code, version) is decided by the service.
        pass


@admin.register(Rule)
class RuleAdmin(TenantOnlyAdmin, admin.ModelAdmin):
    form = RuleForm
    list_display = ("code", "version", "name", "kind", "action", "weight", "enabled", "effective_from", "effective_to")
    list_filter = ("kind", "action", "enabled")
    search_fields = ("=code", "name")
    readonly_fields = ("public_id", "version", "effective_to", "created_by", "created_at")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Only the version in force can be followed by a new one; history stays as it was.
        return (obj is None or obj.effective_to is None) and super().has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "code", "kind") if obj else self.readonly_fields

    def get_changeform_initial_data(self, request):
        return {"params": {}, "action": RuleAction.REVIEW, "weight": 100}

    def _save(self, request, form) -> Rule:
        data = form.cleaned_data
        instance = form.instance
        with acting_as(_actor(request)):
            created = services.rule_version_create(
                code=instance.code if instance.pk else data["code"],
                name=data["name"],
                kind=instance.kind if instance.pk else data["kind"],
                params=data["params"],
                action=data["action"],
                weight=data["weight"],
                enabled=data["enabled"],
                effective_from=data.get("effective_from"),
                reason=data["reason"],
            )
        return Rule.objects.get(public_id=created.id)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except PlatformError as exc:  # a conflict only the service can see (a concurrent change)
            self.message_user(request, _error_text(exc), messages.ERROR)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change) -> None:
        saved = self._save(request, form)
        obj.__dict__.update(saved.__dict__)

    def log_change(self, request, obj, message):
        # The audit trail holds the change; the admin log names the new version.
        return super().log_addition(request, obj, f"New version {obj.version}")


class BlockListEntryForm(forms.ModelForm):
    class Meta:
        model = BlockListEntry
        fields = ("kind", "value", "reason", "expires_at")


@admin.register(BlockListEntry)
class BlockListEntryAdmin(TenantOnlyAdmin, admin.ModelAdmin):
    form = BlockListEntryForm
    list_display = ("public_id", "kind", "value", "reason", "expires_at", "created_by", "created_at", "removed_at")
    list_filter = ("kind",)
    search_fields = ("=value", "=public_id")
    actions = ["remove_entries"]

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_remove_entries_permission(self, request) -> bool:
        return request.user.has_perm("fraud.change_blocklistentry")

    def save_model(self, request, obj, form, change) -> None:
        with acting_as(_actor(request)):
            created = services.block_entry_add(
                kind=obj.kind, value=obj.value, reason=obj.reason, expires_at=obj.expires_at
            )
        obj.__dict__.update(BlockListEntry.objects.get(public_id=created.id).__dict__)

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except PlatformError as exc:
            self.message_user(request, _error_text(exc), messages.ERROR)
            return super().add_view(request, form_url, extra_context) if request.method == "GET" else None

    @admin.action(description="Remove selected entries from the block list", permissions=["remove_entries"])
    def remove_entries(self, request, queryset):
        page = _reason_step(
            self, request, queryset, action="remove_entries", title="Remove block list entries",
            prompt="Remove these entries from the block list:",
        )  # fmt: skip
        if page is not None:
            return page
        for entry in queryset.filter(removed_at__isnull=True):
            try:
                with acting_as(_actor(request)):
                    services.block_entry_remove(entry_id=entry.public_id, reason=request.POST["reason"])
            except PlatformError as exc:
                self.message_user(request, f"{entry.public_id}: {_error_text(exc)}", messages.ERROR)
                continue
            self.message_user(request, f"{entry.public_id}: removed.", messages.SUCCESS)
        return None


class SettingsForm(forms.ModelForm):
    reason = forms.CharField(max_length=500, help_text="Why the settings change (audited).")

    class Meta:
        model = FraudSettings
        fields = ("review_threshold", "decline_threshold", "dual_control_amounts")


@admin.register(FraudSettings)
class FraudSettingsAdmin(TenantOnlyAdmin, admin.ModelAdmin):
    form = SettingsForm
    list_display = ("__str__", "dual_control_amounts", "version", "updated_at")

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        settings_get()  # the row exists, with its defaults, before it is first shown
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        try:
            with acting_as(_actor(request)):
                row = services.settings_update(
                    review_threshold=data["review_threshold"],
                    decline_threshold=data["decline_threshold"],
                    dual_control_amounts=data["dual_control_amounts"],
                    reason=data["reason"],
                )
        except PlatformError as exc:
            self.message_user(request, _error_text(exc), messages.ERROR)
            obj.refresh_from_db()
            return
        obj.__dict__.update(row.__dict__)


@admin.register(Assessment)
class AssessmentAdmin(TenantOnlyAdmin, ReadOnlyModelAdmin):
    list_display = ("public_id", "reference", "decision", "score", "movement_type", "amount", "currency",
                    "customer_id", "occurred_at", "label")  # fmt: skip
    list_filter = ("decision", "movement_type", "label", "synthetic")
    search_fields = ("=public_id", "=reference", "=customer_id", "=wallet_id")
    exclude = ("features", "reasons")
    readonly_fields = ("reasons_shown", "features_shown")

    @admin.display(description="Reasons")
    def reasons_shown(self, obj) -> str:
        return json.dumps(obj.reasons, indent=2)

    @admin.display(description="Features")
    def features_shown(self, obj) -> str:
        return json.dumps(dict(zip(FEATURES, obj.features, strict=False)), indent=2)


@admin.register(ReviewCase)
class ReviewCaseAdmin(TenantOnlyAdmin, ReadOnlyModelAdmin):
    list_display = ("public_id", "status", "amount", "currency", "score", "rules", "opened_at", "decided_by",
                    "approval_id")  # fmt: skip
    list_filter = ("status",)
    search_fields = ("=public_id", "=assessment__reference", "=assessment__customer_id", "=approval_id")
    list_select_related = ("assessment",)
    fields = readonly_fields = ("public_id", "assessment", "status", "amount", "currency", "opened_at", "decided_at",
                                "decided_by", "decision_reason", "approval_id")  # fmt: skip
    actions = ["approve_cases", "decline_cases"]

    @admin.display(description="Score")
    def score(self, obj) -> int:
        return obj.assessment.score

    @admin.display(description="Rules fired")
    def rules(self, obj) -> str:
        return ", ".join(reason["code"] for reason in obj.assessment.reasons if reason["type"] == "rule")

    def has_decide_permission(self, request) -> bool:
        return request.user.has_perm("fraud.change_reviewcase")

    def _decide(self, request, queryset, decision: str):
        page = _reason_step(
            self, request, queryset, action=f"{decision}_cases", title=f"{decision.capitalize()} review cases",
            prompt=f"{decision.capitalize()} these movements (above the dual-control amount an Approver must confirm):",
        )  # fmt: skip
        if page is not None:
            return page
        for case in queryset:
            try:
                decided = review.case_decide(
                    case_id=case.public_id, decision=decision, reason=request.POST["reason"], decided_by=request.user
                )
            except PlatformError as exc:
                self.message_user(request, f"{case.public_id}: {_error_text(exc)}", messages.ERROR)
                continue
            if decided.status == "open":
                text = f"{case.public_id}: {decision} requested ({decided.approval_id}), awaiting an Approver."
            else:
                text = f"{case.public_id}: {decided.status}."
            self.message_user(request, text, messages.SUCCESS)
        return None

    @admin.action(description="Approve selected movements", permissions=["decide"])
    def approve_cases(self, request, queryset):
        return self._decide(request, queryset, "approve")

    @admin.action(description="Decline selected movements", permissions=["decide"])
    def decline_cases(self, request, queryset):
        return self._decide(request, queryset, "decline")


@admin.register(ModelVersion)
class ModelVersionAdmin(TenantOnlyAdmin, ReadOnlyModelAdmin):
    list_display = ("version", "status", "algorithm", "roc_auc", "training_rows", "trained_at", "trained_by")
    list_filter = ("status",)
    exclude = ("artifact",)
    actions = ["activate_models", "shadow_models", "retire_models"]

    @admin.display(description="ROC AUC")
    def roc_auc(self, obj) -> str:
        value = obj.metrics.get("roc_auc")
        return "—" if value is None else f"{value:.3f}"

    def has_manage_permission(self, request) -> bool:
        return request.user.has_perm("fraud.change_modelversion")

    def _status(self, request, queryset, status: str, action: str):
        page = _reason_step(
            self, request, queryset, action=action, title=f"Set models {status}",
            prompt=f"Set these model versions {status}:",
        )  # fmt: skip
        if page is not None:
            return page
        for model in queryset.order_by("version"):
            try:
                model_lifecycle.model_status_set(
                    version=model.version, status=status, actor=_actor(request), reason=request.POST["reason"]
                )
            except PlatformError as exc:
                self.message_user(request, f"v{model.version}: {_error_text(exc)}", messages.ERROR)
                continue
            self.message_user(request, f"v{model.version}: {status}.", messages.SUCCESS)
        return None

    @admin.action(description="Activate (enforce) the selected version", permissions=["manage"])
    def activate_models(self, request, queryset):
        return self._status(request, queryset, "active", "activate_models")

    @admin.action(description="Run the selected version in shadow mode", permissions=["manage"])
    def shadow_models(self, request, queryset):
        return self._status(request, queryset, "shadow", "shadow_models")

    @admin.action(description="Retire the selected versions", permissions=["manage"])
    def retire_models(self, request, queryset):
        return self._status(request, queryset, "retired", "retire_models")
