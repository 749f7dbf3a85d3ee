"""Admin for operator configuration: rules, development hosts, device teams.

Every write goes through ``alerts.services`` so it is validated, audited in
``ConfigAuditLog`` in the same transaction, and bumps the rule version.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django import forms
from django.contrib import admin, messages
from redis.exceptions import RedisError

from alerts.admin.rule_lab import RuleLabAdminMixin  # rule lab (issue 10)
from alerts.models import AlertRule, DevelopmentHost, DeviceTeam
from alerts.rule_stats import rule_stats_all
from alerts.services import ConfigChange, rules_set_active
from alerts.services.config import config_delete, config_save

log = logging.getLogger(__name__)


class AuditedForm(forms.ModelForm):
    """Adds the reason an operator gives for a change (recorded in the config audit log)."""

    reason = forms.CharField(required=False, max_length=500, help_text='Recorded in the audit log ("admin" if empty).')


class AuditedAdmin(admin.ModelAdmin):
    """Saves and deletes through the audited configuration services."""

    form = AuditedForm

    @staticmethod
    def _change(request, form=None) -> ConfigChange:
        reason = (form.cleaned_data.get("reason") if form is not None else "") or "admin"
        return ConfigChange(user=request.user.get_username(), reason=reason)

    def save_model(self, request, obj, form, change) -> None:
        config_save(instance=obj, change=self._change(request, form))

    def delete_model(self, request, obj) -> None:
        config_delete(instance=obj, change=self._change(request))

    def delete_queryset(self, request, queryset) -> None:
        change = self._change(request)  # one correlation id for the whole bulk delete
        for obj in queryset:
            config_delete(instance=obj, change=change)


@admin.register(AlertRule)
class AlertRuleAdmin(RuleLabAdminMixin, AuditedAdmin):  # RuleLabAdminMixin: rule lab (issue 10)
    list_display = (
        "id",
        "priority",
        "match_type",
        "match_string",
        "trap_oid",
        "syslog_severity",
        "prod_handling",
        "dev_handling",
        "team_assignment",
        "is_active",
    )
    list_filter = ("is_active", "match_type", "prod_handling", "team_assignment")
    search_fields = ("match_string", "trap_oid", "team_assignment", "description")
    ordering = ("-priority", "id")
    readonly_fields = ("created_by",)
    actions = ("activate_rules", "deactivate_rules")

    def get_list_display(self, request):
        """Adds hit count and last match, read from Redis once per page (not once per row)."""
        try:
            stats = rule_stats_all()
        except RedisError as exc:
            log.warning("rule statistics unavailable (%s)", type(exc).__name__)
            stats = {}

        @admin.display(description="hits")
        def hits(rule):
            return stats.get(rule.pk, (0, None))[0]

        @admin.display(description="last matched")
        def last_matched(rule):
            stamp = stats.get(rule.pk, (0, None))[1]
            return datetime.fromtimestamp(stamp, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if stamp else "never"

        return (*self.list_display, hits, last_matched)

    def _set_active(self, request, queryset, active: bool) -> None:
        count = rules_set_active(rules=queryset, active=active, change=self._change(request))
        self.message_user(request, f"{count} rule(s) {'activated' if active else 'deactivated'}.", messages.SUCCESS)

    @admin.action(description="Activate selected rules")
    def activate_rules(self, request, queryset) -> None:
        self._set_active(request, queryset, True)

    @admin.action(description="Deactivate selected rules")
    def deactivate_rules(self, request, queryset) -> None:
        self._set_active(request, queryset, False)


@admin.register(DevelopmentHost)
class DevelopmentHostAdmin(AuditedAdmin):
    list_display = ("hostname", "description", "added_at", "added_by")
    search_fields = ("hostname",)
    readonly_fields = ("added_by",)


@admin.register(DeviceTeam)
class DeviceTeamAdmin(AuditedAdmin):
    list_display = ("hostname", "team_assignment", "updated_at")
    search_fields = ("hostname", "team_assignment")
    readonly_fields = ("assigned_by",)
