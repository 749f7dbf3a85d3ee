"""Admin for the pipeline tables: audit trails, inbox, outbox, dead letters."""

from django.contrib import admin
from django.core.paginator import Paginator
from django.utils.functional import cached_property

from alerts.choices import HandlingChoices
from alerts.models import ConfigAuditLog, EventAuditLog, IngestBatch
from alerts.selectors import queryset_estimated_count


class EstimatedCountPaginator(Paginator):
    """Pages of a huge table: the row count is the query planner's estimate (costs a plan, not a scan)."""

    @cached_property
    def count(self) -> int:
        return queryset_estimated_count(self.object_list)


class HandlingListFilter(admin.SimpleListFilter):
    title = "handling"
    parameter_name = "handling"

    def lookups(self, request, model_admin):
        return HandlingChoices.choices

    def queryset(self, request, queryset):
        return queryset.filter(handling=self.value()) if self.value() else queryset


class MatchedListFilter(admin.SimpleListFilter):
    """Unmatched events (no rule matched, rule_id empty), or matched ones."""

    title = "rule matched"
    parameter_name = "matched"

    def lookups(self, request, model_admin):
        return (("no", "unmatched (no rule)"), ("yes", "matched a rule"))

    def queryset(self, request, queryset):
        if self.value() in ("no", "yes"):
            return queryset.filter(rule_id__isnull=self.value() == "no")
        return queryset


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
    # No filter or hierarchy here may read the whole table: handling's values come from its choices
    # (not SELECT DISTINCT), and dates are fixed ranges (a date_hierarchy runs SELECT DISTINCT month).
    list_filter = (
        HandlingListFilter,
        MatchedListFilter,
        "forward_status",
        "source",
        "is_dev",
        ("received_at", admin.DateFieldListFilter),
    )
    search_fields = ("=correlation_id", "hostname")
    show_full_result_count = False  # counting a partitioned table on every page view is expensive
    paginator = EstimatedCountPaginator  # the planner's estimate, not COUNT(*) over millions of rows

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
