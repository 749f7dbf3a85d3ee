"""Admin for the alert lifecycle: trap names (``oid_mappings``, audited like every configuration
table) and the signatures' state (read-only: written by classification only)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from alerts.admin.rules import AuditedAdmin
from alerts.models import AlertSignature, EmailDigest, EventAuditLog, MaintenanceWindow, OidMapping, TeamContact
from alerts.selectors_lifecycle import window_preview_count, window_suppressed
from alerts.services.config import ConfigChange, config_audit_write

_BR = mark_safe("<br>")  # nosec B308  # a constant; the values go through format_html_join's escaping


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


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(AuditedAdmin):
    """Each window shows how many events it suppressed (from the audit trail) and, on its page,
    how many it would have matched in the last 7 days; saving one reports that preview."""

    list_display = ("name", "kind", "host_pattern", "team", "rule", "timezone", "is_active", "suppressed")
    list_filter = ("is_active", "kind")
    search_fields = ("name", "host_pattern", "team", "description")
    readonly_fields = ("created_by", "suppressed", "preview_last_7_days", "suppressed_events")

    @admin.display(description="suppressed events")
    def suppressed(self, obj) -> int:
        return window_suppressed(obj.pk).count() if obj.pk else 0

    @admin.display(description="would have matched (last 7 days)")
    def preview_last_7_days(self, obj) -> int:
        return window_preview_count(obj) if obj.pk else 0

    @admin.display(description="latest suppressed events")
    def suppressed_events(self, obj):
        if not obj.pk:
            return "-"
        rows = window_suppressed(obj.pk)[:20]
        return format_html_join(_BR, "{} {} {}", ((r.received_at, r.hostname, r.message[:120]) for r in rows)) or "-"

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        count = window_preview_count(obj)
        messages.info(request, f"Window “{obj}” would have suppressed {count} events in the last 7 days.")


@admin.register(TeamContact)
class TeamContactAdmin(AuditedAdmin):
    list_display = ("team", "emails", "is_active", "updated_at")
    search_fields = ("team", "emails")


@admin.register(EmailDigest)
class EmailDigestAdmin(admin.ModelAdmin):
    """Read-only, with one action: send a dead (or waiting) digest again at the next run, audited."""

    list_display = ("id", "team", "event_count", "status", "attempts", "next_attempt_at", "sent_at", "last_error")
    list_filter = ("status", "team")
    actions = ["retry_now"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Send again at the next digest run")
    def retry_now(self, request, queryset) -> None:
        change = ConfigChange(user=request.user.get_username(), reason="digest retry")
        with transaction.atomic():
            for digest in queryset.exclude(status="sent"):
                config_audit_write(change=change, operation="UPDATE", table_name="email_digests", record_id=None,
                                   old_values={"id": str(digest.id), "status": digest.status},
                                   new_values={"id": str(digest.id), "status": "pending"})  # fmt: skip
                EmailDigest.objects.filter(pk=digest.pk).update(status="pending", attempts=0, next_attempt_at=timezone.now())  # fmt: skip
                EventAuditLog.objects.filter(digest_id=digest.pk).update(forward_status="pending")
