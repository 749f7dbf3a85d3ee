"""Operator admin for the outbox and dead letters: see payload and error, replay or discard.

Registered here rather than in alerts/admin because the actions call
remediation.operator_actions (alerts imports neither forwarding nor remediation).
Every action writes a ConfigAuditLog row (in those services).
"""

import json

from django.contrib import admin, messages
from django.utils.html import format_html

from alerts.admin.pipeline import ReadOnlyAdmin
from alerts.models import AlertOutbox, DeadLetter
from remediation.operator_actions import (
    dead_letters_discard,
    dead_letters_replay_now,
    outbox_discard,
    outbox_send_now,
)


@admin.register(AlertOutbox)
class AlertOutboxAdmin(ReadOnlyAdmin):
    """Alerts waiting for Moogsoft; "replay now" makes them due at once, "discard" drops them."""

    list_display = ("id", "correlation_id", "attempts", "next_attempt_at", "last_error", "created_at")
    list_filter = (("next_attempt_at", admin.DateFieldListFilter), "attempts")
    search_fields = ("=correlation_id",)
    readonly_fields = (
        "correlation_id",
        "audit_id",
        "audit_received_at",
        "payload_pretty",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
    )
    exclude = ("payload",)
    actions = ("replay_now", "discard")

    @admin.display(description="payload")
    def payload_pretty(self, obj):
        return _json_block(obj.payload)

    @admin.action(description="Replay now (due at once, forwarders woken)", permissions=["delete"])
    def replay_now(self, request, queryset):
        count = outbox_send_now(ids=list(queryset.values_list("pk", flat=True)), user=request.user)
        self.message_user(request, f"{count} alerts due now; the forwarders are woken.", messages.SUCCESS)

    @admin.action(description="Discard (never send; audit row marked dead)", permissions=["delete"])
    def discard(self, request, queryset):
        count = outbox_discard(ids=list(queryset.values_list("pk", flat=True)), user=request.user)
        self.message_user(request, f"{count} alerts discarded.", messages.WARNING)


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnlyAdmin):
    """Dead letters by stage and status; "replay now" sends at once, "discard" retires them."""

    list_display = (
        "id",
        "stage",
        "status",
        "attempts",
        "response_status",
        "next_attempt_at",
        "last_error",
        "created_at",
    )
    list_filter = ("stage", "status", "response_status")
    search_fields = ("=correlation_id", "last_error")
    readonly_fields = (
        "stage",
        "status",
        "correlation_id",
        "batch_id",
        "audit_id",
        "audit_received_at",
        "payload_pretty",
        "last_error",
        "response_status",
        "attempts",
        "next_attempt_at",
        "created_at",
        "updated_at",
    )
    exclude = ("payload",)
    actions = ("replay_now", "discard")

    @admin.display(description="payload")
    def payload_pretty(self, obj):
        return _json_block(obj.payload)

    @admin.action(description="Replay now (ignores backoff and poison)", permissions=["delete"])
    def replay_now(self, request, queryset):
        results = dead_letters_replay_now(ids=list(queryset.values_list("pk", flat=True)), user=request.user)
        summary = ", ".join(f"{k}: {v}" for k, v in sorted(results.items())) or "nothing to replay"
        level = messages.SUCCESS if set(results) <= {"replayed"} else messages.WARNING
        self.message_user(request, f"Replay: {summary}.", level)

    @admin.action(description="Discard (never replayed)", permissions=["delete"])
    def discard(self, request, queryset):
        count = dead_letters_discard(ids=list(queryset.values_list("pk", flat=True)), user=request.user)
        self.message_user(request, f"{count} dead letters discarded.", messages.WARNING)


def _json_block(value) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True, default=str))
