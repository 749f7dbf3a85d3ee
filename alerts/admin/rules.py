"""Admin for operator configuration: rules, development hosts, device teams."""

from django.contrib import admin

from alerts.models import AlertRule, DevelopmentHost, DeviceTeam


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
