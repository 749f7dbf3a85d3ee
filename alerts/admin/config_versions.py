"""Configuration versions in the admin: list, read, diff any two, roll back (superusers); lookup tables."""

from __future__ import annotations

import io

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from alerts.config_file import diff_text
from alerts.models import ConfigVersion, LookupTable
from alerts.services.config import ConfigChange
from alerts.services.config_apply import ConfigConflict, config_rollback, config_versions_diff
from alerts.services.lookup_tables import LookupTableInvalid, lookup_table_load_csv


@admin.register(ConfigVersion)
class ConfigVersionAdmin(admin.ModelAdmin):
    """Read-only: versions are made by applies, rollbacks and configuration changes, never edited."""

    list_display = ("number", "created_at", "created_by", "source", "short_hash", "reason")
    list_filter = ("source",)
    search_fields = ("reason", "created_by")
    readonly_fields = ("number", "created_at", "created_by", "source", "content_hash", "reason", "content")
    change_form_template = "admin/alerts/configversion/change_form.html"

    @admin.display(description="hash")
    def short_hash(self, obj: ConfigVersion) -> str:
        return obj.content_hash[:12]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:number>/diff/", wrap(self.diff_view), name="alerts_configversion_diff"),
            path("<int:number>/rollback/", wrap(self.rollback_view), name="alerts_configversion_rollback"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {"other_versions": ConfigVersion.objects.exclude(pk=object_id).values_list("number", flat=True)[:200]}
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def diff_view(self, request, number: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        a = get_object_or_404(ConfigVersion, number=number)
        b = get_object_or_404(ConfigVersion, number=int(request.GET.get("other") or number))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Version {a.number} → version {b.number}",
            "a": a,
            "b": b,
            "lines": diff_text(config_versions_diff(a, b)),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/alerts/configversion/diff.html", context)

    def rollback_view(self, request, number: int):
        if request.method != "POST":
            return redirect(reverse("admin:alerts_configversion_change", args=[number]))
        if not request.user.is_superuser:  # the API's admin scope
            raise PermissionDenied
        version = get_object_or_404(ConfigVersion, number=number)
        change = ConfigChange(user=request.user.get_username(), reason=request.POST.get("reason", "").strip()[:2000])
        try:
            result = config_rollback(version, change=change)
        except ConfigConflict as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return redirect(reverse("admin:alerts_configversion_change", args=[number]))
        self.message_user(request, f"Rolled back to version {number}: now version {result['version']}.")
        return redirect(reverse("admin:alerts_configversion_changelist"))


@admin.register(LookupTable)
class LookupTableAdmin(admin.ModelAdmin):
    """Enrichment tables: definition and row count here; rows loaded from CSV (upload below, API or the file)."""

    list_display = ("name", "key_column", "columns", "updated_at")
    readonly_fields = ("name", "key_column", "value_columns", "updated_at")
    fields = ("name", "key_column", "value_columns", "description", "updated_at")
    change_list_template = "admin/alerts/lookuptable/change_list.html"

    @admin.display(description="value columns")
    def columns(self, obj: LookupTable) -> str:
        return ", ".join(obj.value_columns)

    def has_add_permission(self, request) -> bool:
        return False

    def get_urls(self):
        return [
            path("upload/", self.admin_site.admin_view(self.upload_view), name="alerts_lookuptable_upload"),
            *super().get_urls(),
        ]

    def upload_view(self, request):
        if request.method != "POST" or not request.user.is_superuser:
            raise PermissionDenied
        upload = request.FILES.get("csv")
        name = request.POST.get("name", "").strip()
        if upload is None or not name:
            self.message_user(request, "Give a table name and a CSV file.", messages.ERROR)
        else:
            change = ConfigChange(user=request.user.get_username(), reason="csv upload (admin)")
            try:
                text = io.StringIO(upload.read().decode("utf-8"), newline="")
                result = lookup_table_load_csv(name=name, stream=text, change=change)
                self.message_user(request, f"Table {name}: {result['rows']} rows loaded.")
            except (LookupTableInvalid, UnicodeDecodeError) as exc:
                self.message_user(request, f"Refused: {exc}", messages.ERROR)
        return redirect(reverse("admin:alerts_lookuptable_changelist"))
