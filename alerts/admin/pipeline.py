"""Admin for the pipeline tables: audit trails, inbox, outbox, dead letters."""

from django.contrib import admin

from alerts.models import ConfigAuditLog, EventAuditLog, IngestBatch


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(EventAuditLog)
class EventAuditLogAdmin(ReadOnlyAdmin):
    list_display = (
        "received_at",
        "hostname",
        "handling",
        "rule_id",
        "team_assignment",
        "is_dev",
        "forward_status",
        "correlation_id",
    )
    list_filter = ("handling", "forward_status", "source", "is_dev")
    search_fields = ("=correlation_id", "hostname")
    date_hierarchy = "received_at"
    show_full_result_count = False  # counting a partitioned table on every page view is expensive

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ConfigAuditLog)
class ConfigAuditLogAdmin(ReadOnlyAdmin):
    list_display = ("changed_at", "changed_by", "operation", "table_name", "record_id", "reason")
    list_filter = ("operation", "table_name")
    search_fields = ("changed_by", "reason", "=correlation_id")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(IngestBatch)
class IngestBatchAdmin(ReadOnlyAdmin):
    list_display = ("id", "received_at", "event_count", "status", "attempts", "processed_at")
    list_filter = ("status",)


# AlertOutbox and DeadLetter are registered by remediation/admin.py: their actions
# call remediation services, and alerts must not import remediation (docs/architecture.md, "Apps").
