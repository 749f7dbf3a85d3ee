"""Operator admin for the outbox and dead letters: see payload and error, replay or discard.

Registered here rather than in alerts/admin because the actions call
remediation.operator_actions (alerts imports neither forwarding nor remediation).
Every action writes a ConfigAuditLog row (in those services).
"""

import json

from django.contrib import admin, messages
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html

from alerts.admin.pipeline import ReadOnlyAdmin
from alerts.models import AlertOutbox, DeadLetter
from forwarding.circuit_breaker import breaker_status
from forwarding.outbox_stats import configured_rate, delivery_rate_last, outbox_class_stats
from forwarding.services import STALE_REASON
from remediation.operator_actions import (
    dead_letters_discard,
    dead_letters_replay_now,
    moog_breaker_reset,
    outbox_discard,
    outbox_send_now,
)


@admin.register(AlertOutbox)
class AlertOutboxAdmin(ReadOnlyAdmin):
    """Alerts waiting for Moogsoft; "replay now" makes them due at once, "discard" drops them."""

    list_display = ("id", "correlation_id", "handling", "attempts", "next_attempt_at", "last_error", "created_at")
    list_filter = ("handling", ("next_attempt_at", admin.DateFieldListFilter), "attempts")
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

    def changelist_view(self, request, extra_context=None):
        # Per priority class, in drain order: what waits, since when, and how long it will take
        # (one GROUP BY over the outbox, the same selector the outbox-stats metrics job uses).
        measured = delivery_rate_last()
        rate = configured_rate() if measured is None else measured
        stats = [
            {
                "label": row.label,
                "handlings": ", ".join(h or "(none)" for h in row.handlings),
                "depth": row.depth,
                "oldest": _duration(row.oldest_age) if row.depth else "—",
                "drain": _duration(row.drain_seconds) if row.depth and row.drain_seconds is not None else "—",
            }
            for row in outbox_class_stats(rate)
        ]
        context = {
            "breaker": breaker_status(),
            "breaker_reset_url": reverse("admin:alerts_alertoutbox_breaker_reset"),
            "outbox_classes": stats,
            "outbox_rate": f"{rate:.1f}",
            "outbox_rate_source": "configured best" if measured is None else "measured",
        } | (extra_context or {})
        return super().changelist_view(request, extra_context=context)

    def get_urls(self):
        reset = self.admin_site.admin_view(self.breaker_reset_view)
        return [path("breaker-reset/", reset, name="alerts_alertoutbox_breaker_reset"), *super().get_urls()]

    def breaker_reset_view(self, request):
        """POST only, for operators who may act on the outbox: close the Moogsoft breaker now (audited)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_delete_permission(request):
            messages.error(request, "You may not act on the outbox.")
        else:
            result = moog_breaker_reset(
                user=request.user, reason=request.POST.get("reason", "") or "admin: breaker reset"
            )
            messages.success(request, f"Moogsoft breaker reset (was {result['before']['state']}); alerts go now.")
        return HttpResponseRedirect(reverse("admin:alerts_alertoutbox_changelist"))

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


class DeadLetterReasonFilter(admin.SimpleListFilter):
    """Why a forward alert was dead-lettered; ``stale``: it waited past MOOG_MAX_ALERT_AGE (never sent)."""

    title = "reason"
    parameter_name = "reason"

    def lookups(self, request, model_admin):
        return [(STALE_REASON, "stale (waited too long)"), ("refused", "refused by Moogsoft (4xx)")]

    def queryset(self, request, queryset):
        if self.value() == STALE_REASON:
            return queryset.filter(last_error__startswith=f"{STALE_REASON}:")
        if self.value() == "refused":
            return queryset.filter(response_status__gte=400, response_status__lt=500)
        return queryset


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
    list_filter = ("stage", "status", DeadLetterReasonFilter, "response_status")
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


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
