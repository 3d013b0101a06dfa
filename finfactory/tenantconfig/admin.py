"""Configuration values in the admin: global values in the platform operators' admin (public
schema), a tenant's values in that tenant's back office. Every change goes through the services
(validated, audited, caches invalidated) and needs a reason; unsetting is an action, not a delete."""

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import JSONField
from django.db.models.expressions import RawSQL
from django.template.response import TemplateResponse
from django_tenants.utils import get_public_schema_name

from finfactory.errors import InvalidInput, PlatformError
from finfactory.request_context import acting_as
from finfactory.tenantconfig.caching import TABLE, stored_values
from finfactory.tenantconfig.models import ConfigValue
from finfactory.tenantconfig.registry import ConfigDefinition, config_definition, config_definitions
from finfactory.tenantconfig.services import config_set, config_unset, config_value_check

_LIST_WIDTH = 80


def _in_public_schema() -> bool:
    return connection.schema_name == get_public_schema_name()


def _scope() -> str:
    return "global" if _in_public_schema() else "tenant"


def _json(value, *, width: int | None = None) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if width is None or len(text) <= width else text[: width - 1] + "…"


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _kind(definition: ConfigDefinition) -> str:
    parts = [definition.kind]
    if definition.minimum is not None or definition.maximum is not None:
        low = "" if definition.minimum is None else definition.minimum
        high = "" if definition.maximum is None else definition.maximum
        parts.append(f"{low}..{high}")
    if definition.choices is not None:
        parts.append("one of " + ", ".join(_json(choice) for choice in definition.choices))
    return ", ".join(parts)


class ConfigValueForm(forms.ModelForm):
    key = forms.ChoiceField(label="Key")
    value = forms.CharField(
        label="Value (JSON)",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text='JSON: true, 42, "text in double quotes", {"an": "object"}.',
    )
    reason = forms.CharField(
        label="Reason for this change",
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Recorded in the audit trail.",
    )

    class Meta:
        model = ConfigValue
        fields = ("key", "value", "reason")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The reason is this change's, never the previous one's.
        self.initial["reason"] = ""
        if self.instance.pk:
            self.initial["value"] = json.dumps(self.instance.value, ensure_ascii=False)
        if "key" in self.fields:
            already_set = set(ConfigValue.objects.values_list("key", flat=True))
            self.fields["key"].choices = [
                (d.key, f"{d.key} — {d.description} ({_kind(d)}; default {_json(d.default, width=40)})")
                for d in config_definitions()
                if d.key not in already_set
            ]

    def clean_value(self):
        text = self.cleaned_data["value"]
        try:
            return json.loads(text, parse_constant=_refuse_constant)
        except ValueError as exc:
            raise ValidationError(
                'Not valid JSON (a string is written in double quotes: "like this").', code="invalid_json"
            ) from exc

    def clean(self):
        cleaned = super().clean()
        key = self.instance.key if self.instance.pk else cleaned.get("key")
        if key and "value" in cleaned:
            try:
                config_value_check(key, cleaned["value"])
            except InvalidInput as refused:
                for error in refused.errors:
                    self.add_error(error.field if error.field in self.fields else None, error.message)
        return cleaned


@admin.register(ConfigValue)
class ConfigValueAdmin(admin.ModelAdmin):
    form = ConfigValueForm
    list_display = ("key", "value_json", "description", "default", "version", "updated_by", "updated_at")
    search_fields = ("key",)
    actions = ["unset_selected"]

    def get_list_display(self, request):
        if _in_public_schema():
            return self.list_display
        return (*self.list_display[:4], "global_value", *self.list_display[4:])

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if _in_public_schema():
            return queryset
        # The global value next to the tenant's: what applies once the tenant's is unset. The SQL
        # holds no input: the public schema's name comes from settings and is quoted.
        public = connection.ops.quote_name(get_public_schema_name())
        sql = f"SELECT g.value FROM {public}.{TABLE} g WHERE g.key = {TABLE}.key"  # noqa: S608
        return queryset.annotate(global_json=RawSQL(sql, [], output_field=JSONField()))  # noqa: S611

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("key", "value", "reason")
        info = ("key", "description", "kind", "default")
        if not _in_public_schema():
            info += ("global_value",)
        return (*info, "value", "reason", "last_change")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # Staff without the change permission see value and reason read-only too (Django does that).
        return ("key", "description", "kind", "default", "global_value", "last_change")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # unsetting needs a reason: the "Unset" action asks for it

    # --- Columns ---------------------------------------------------------------------------

    @admin.display(description="value")
    def value_json(self, obj) -> str:
        return _json(obj.value, width=_LIST_WIDTH)

    @admin.display(description="description")
    def description(self, obj) -> str:
        definition = config_definition(obj.key)
        return definition.description if definition else "(no longer registered)"

    @admin.display(description="kind")
    def kind(self, obj) -> str:
        definition = config_definition(obj.key)
        return _kind(definition) if definition else "-"

    @admin.display(description="default")
    def default(self, obj) -> str:
        definition = config_definition(obj.key)
        return _json(definition.default, width=_LIST_WIDTH) if definition else "-"

    @admin.display(description="global value")
    def global_value(self, obj) -> str:
        # Lists annotate it (get_queryset); the change page reads it.
        value = obj.global_json if hasattr(obj, "global_json") else stored_values(get_public_schema_name()).get(obj.key)
        return "(not set)" if value is None else _json(value, width=_LIST_WIDTH)

    @admin.display(description="last change")
    def last_change(self, obj) -> str:
        return f"version {obj.version}, {obj.updated_at:%Y-%m-%d %H:%M:%S} UTC by {obj.updated_by}: {obj.reason}"

    # --- Writes through the services -------------------------------------------------------

    def save_model(self, request, obj, form, change) -> None:
        key = obj.key if change else form.cleaned_data["key"]
        with acting_as(_actor(request)):
            config_set(key=key, value=form.cleaned_data["value"], reason=form.cleaned_data["reason"], scope=_scope())
        stored = ConfigValue.objects.get(key=key)
        obj.pk = stored.pk
        obj.refresh_from_db()

    @admin.action(description="Unset selected values (the global value or the default applies)", permissions=["change"])
    def unset_selected(self, request, queryset):
        reason = request.POST.get("reason", "").strip()
        if "apply" not in request.POST or not reason:
            return TemplateResponse(
                request,
                "admin/tenantconfig/configvalue/unset_reason.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Unset configuration values",
                    "opts": self.model._meta,
                    "queryset": queryset,
                    "scope": _scope(),
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                    "missing_reason": "apply" in request.POST,
                },
            )
        with acting_as(_actor(request)):
            for row in queryset:
                try:
                    config_unset(key=row.key, reason=reason, scope=_scope())
                except PlatformError as exc:
                    self.message_user(request, f"{row.key}: {exc.detail}", messages.ERROR)
                    continue
                self.message_user(request, f"{row.key}: unset", messages.SUCCESS)
        return None


def _actor(request) -> str:
    return f"user:{request.user.get_username()}"
