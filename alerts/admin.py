"""Admin registrations: an operator can log in and edit rules, hosts and teams today."""

from django.contrib import admin

from alerts.models import (
    AlertOutbox,
    AlertRule,
    ConfigAuditLog,
    DeadLetter,
    DevelopmentHost,
    DeviceTeam,
    EventAuditLog,
    IngestBatch,
)


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ("id", "priority", "match_type", "match_string", "trap_oid", "syslog_severity",
                    "prod_handling", "dev_handling", "team_assignment", "is_active")
    list_filter = ("is_active", "match_type", "prod_handling", "team_assignment")
    search_fields = ("match_string", "trap_oid", "team_assignment", "description")
    ordering = ("-priority", "id")


@admin.register(DevelopmentHost)
class DevelopmentHostAdmin(admin.ModelAdmin):
    list_display = ("hostname", "description", "added_at", "added_by")
    search_fields = ("hostname",)


@admin.register(DeviceTeam)
class DeviceTeamAdmin(admin.ModelAdmin):
    list_display = ("hostname", "team_assignment", "updated_at")
    search_fields = ("hostname", "team_assignment")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(EventAuditLog)
class EventAuditLogAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "hostname", "handling", "rule_id", "team_assignment", "is_dev",
                    "forward_status", "correlation_id")
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


@admin.register(AlertOutbox)
class AlertOutboxAdmin(ReadOnlyAdmin):
    list_display = ("id", "correlation_id", "attempts", "next_attempt_at", "last_error", "created_at")
    search_fields = ("=correlation_id",)


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnlyAdmin):
    list_display = ("id", "stage", "status", "attempts", "response_status", "next_attempt_at", "last_error",
                    "created_at")
    list_filter = ("stage", "status")
    search_fields = ("=correlation_id", "last_error")
