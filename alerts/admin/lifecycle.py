"""Admin for the alert lifecycle: trap names (``oid_mappings``, audited like every configuration
table) and the signatures' state (read-only: written by classification only)."""

from __future__ import annotations

from django.contrib import admin

from alerts.admin.rules import AuditedAdmin
from alerts.models import AlertSignature, OidMapping


@admin.register(OidMapping)
class OidMappingAdmin(AuditedAdmin):
    list_display = ("trap_name", "oid_pattern", "match_kind", "vendor", "category", "default_severity", "clear_oid_pattern", "is_active")  # fmt: skip
    list_filter = ("is_active", "vendor", "category", "match_kind")
    search_fields = ("trap_name", "oid_pattern", "clear_oid_pattern", "description")


@admin.register(AlertSignature)
class AlertSignatureAdmin(admin.ModelAdmin):
    list_display = ("signature", "is_open", "repeat_count", "opened_at", "last_seen_at", "cleared_at", "correlation_id")
    list_filter = ("is_open",)
    search_fields = ("signature",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
