"""List filters (django-filter); an unknown parameter is refused by the views, a bad value is a 400."""

from __future__ import annotations

from datetime import UTC

import django_filters
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField

from alerts.choices import AuditOperation, MatchTypeChoices
from alerts.models import AlertRule, ConfigAuditLog, DevelopmentHost, DeviceTeam


class UtcIsoDateTimeField(IsoDateTimeField):
    """ISO 8601, converted to UTC here: PostgreSQL refuses offsets beyond ±15:59 (a 500 otherwise)."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValidationError("Date out of range.", code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class AlertRuleFilterSet(django_filters.FilterSet):
    # Strict: anything but true/false is a 400 (BooleanFilter would ignore it and list everything).
    is_active = django_filters.TypedChoiceFilter(
        choices=[("true", "true"), ("false", "false")], coerce=lambda value: value == "true"
    )
    match_type = django_filters.ChoiceFilter(choices=MatchTypeChoices.choices)
    team_assignment = django_filters.CharFilter(max_length=64)
    search = django_filters.CharFilter(
        field_name="match_string", lookup_expr="icontains", max_length=200, label="Substring of the match string"
    )

    class Meta:
        model = AlertRule
        fields = ["is_active", "match_type", "team_assignment", "search"]


class DevelopmentHostFilterSet(django_filters.FilterSet):
    search = django_filters.CharFilter(
        field_name="hostname", lookup_expr="icontains", max_length=255, label="Substring of the hostname"
    )

    class Meta:
        model = DevelopmentHost
        fields = ["search"]


class DeviceTeamFilterSet(django_filters.FilterSet):
    team_assignment = django_filters.CharFilter(max_length=64)
    search = django_filters.CharFilter(
        field_name="hostname", lookup_expr="icontains", max_length=255, label="Substring of the hostname"
    )

    class Meta:
        model = DeviceTeam
        fields = ["team_assignment", "search"]


class ConfigAuditLogFilterSet(django_filters.FilterSet):
    table_name = django_filters.CharFilter(max_length=64)
    operation = django_filters.ChoiceFilter(choices=AuditOperation.choices)
    changed_by = django_filters.CharFilter(max_length=150)
    record_id = django_filters.NumberFilter(min_value=-(2**63), max_value=2**63 - 1)
    start_date = UtcIsoDateTimeFilter(field_name="changed_at", lookup_expr="gte", label="ISO 8601")
    end_date = UtcIsoDateTimeFilter(field_name="changed_at", lookup_expr="lte", label="ISO 8601")

    class Meta:
        model = ConfigAuditLog
        fields = ["table_name", "operation", "changed_by", "record_id", "start_date", "end_date"]
