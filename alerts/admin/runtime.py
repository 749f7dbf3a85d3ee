"""Admin page for runtime settings: every setting listed, edited one at a time, each change audited."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin

from alerts.dynamic_config import runtime
from alerts.models import RuntimeSetting
from alerts.runtime_catalog import CATALOG, RuntimeSettingError, setting_parse, setting_spec
from alerts.services.config import ConfigChange
from alerts.services.runtime import runtime_setting_set


class RuntimeSettingForm(forms.ModelForm):
    value = forms.CharField(required=False, help_text="Empty returns the setting to its environment default.")
    reason = forms.CharField(required=False, max_length=500, help_text='Recorded in the audit log ("admin" if empty).')

    class Meta:
        model = RuntimeSetting
        fields = ["value"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            spec = setting_spec(self.instance.pk)
            info = spec.describe()
            if spec.choices:
                limits = f"one of {', '.join(spec.choices)}"
            elif spec.text_check is not None:
                limits = "text"
            else:
                limits = f"{info['type']} from {spec.minimum:g} to {spec.maximum:g}"
            default = getattr(settings, spec.setting)
            self.fields[
                "value"
            ].help_text = f"{spec.description} {limits}; default {default} (environment {spec.setting})."
            self.initial["value"] = "" if self.instance.value is None else str(self.instance.value)

    def clean_value(self):
        raw = self.cleaned_data["value"].strip()
        if raw == "":
            return None
        try:
            return setting_parse(self.instance.pk, raw, from_text=True)
        except RuntimeSettingError as exc:
            raise forms.ValidationError(str(exc)) from None


@admin.register(RuntimeSetting)
class RuntimeSettingAdmin(admin.ModelAdmin):
    """Runtime settings change without a restart (live in every process within about 5 s)."""

    form = RuntimeSettingForm
    list_display = ("name", "current_value", "default_value", "description", "updated_by", "updated_at")
    fields = ("name", "value", "reason", "updated_by", "updated_at")
    readonly_fields = ("name", "updated_by", "updated_at")

    @admin.display(description="current value")
    def current_value(self, obj):
        return runtime(obj.name) if obj.name in CATALOG else obj.value

    @admin.display(description="default")
    def default_value(self, obj):
        return getattr(settings, setting_spec(obj.name).setting) if obj.name in CATALOG else "–"

    @admin.display(description="description")
    def description(self, obj):
        return setting_spec(obj.name).description if obj.name in CATALOG else "(no longer used)"

    def changelist_view(self, request, extra_context=None):
        # Every setting gets a row (null = environment default) so all are listed and editable.
        RuntimeSetting.objects.bulk_create([RuntimeSetting(name=name) for name in CATALOG], ignore_conflicts=True)
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        reason = form.cleaned_data.get("reason") or "admin"
        runtime_setting_set(
            name=obj.name,
            value=form.cleaned_data["value"],
            change=ConfigChange(user=request.user.get_username(), reason=reason),
        )
