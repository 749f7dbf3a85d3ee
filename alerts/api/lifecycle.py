"""REST API for the alert lifecycle's configuration: trap names, maintenance windows, team contacts.

Same shape and audit as the other configuration endpoints (``AuditedConfigViewSet``):
writes go through ``alerts.services.config`` (validated by the model, audited,
rule version bumped); scopes by method (``HasScopeForMethod``).
"""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from alerts.api import pagination
from alerts.api.serializers import ReasonField
from alerts.api.views import AuditedConfigViewSet, _config_schema
from alerts.models import MaintenanceWindow, OidMapping, TeamContact
from alerts.selectors_lifecycle import window_preview_count, window_suppressed
from alerts.services.config import config_delete, config_save


class OidMappingSerializer(serializers.ModelSerializer):
    reason = ReasonField()

    class Meta:
        model = OidMapping
        fields = ["id", "oid_pattern", "match_kind", "trap_name", "vendor", "category", "default_severity",
                  "clear_oid_pattern", "instance_varbind", "description", "is_active", "updated_at", "reason"]  # fmt: skip
        read_only_fields = ["id", "updated_at"]
        validators: list = []  # the model's unique constraint is checked by full_clean, with the admin's message


class MaintenanceWindowSerializer(serializers.ModelSerializer):
    reason = ReasonField()
    suppressed = serializers.SerializerMethodField()

    class Meta:
        model = MaintenanceWindow
        fields = ["id", "name", "kind", "timezone", "starts_at", "ends_at", "weekdays", "start_time", "end_time",
                  "host_pattern", "team", "rule", "is_active", "description", "created_by", "updated_at",
                  "suppressed", "reason"]  # fmt: skip
        read_only_fields = ["id", "created_by", "updated_at", "suppressed"]

    def get_suppressed(self, obj) -> int:
        return window_suppressed(obj.pk).count() if obj.pk else 0


class TeamContactSerializer(serializers.ModelSerializer):
    reason = ReasonField()

    class Meta:
        model = TeamContact
        fields = ["id", "team", "emails", "is_active", "updated_at", "reason"]
        read_only_fields = ["id", "updated_at"]
        extra_kwargs = {"team": {"validators": []}}


class _Pages(pagination.EnvelopePagination):
    results_key = "results"


class _Search(django_filters.FilterSet):
    search = django_filters.CharFilter(method="_search", max_length=255, label="Substring of the name")

    def _search(self, queryset, name, value):
        return queryset.filter(**{f"{self.search_field}__icontains": value})


def _filterset(model, field: str):
    meta = type("Meta", (), {"model": model, "fields": ["search"]})
    return type(f"{model.__name__}FilterSet", (_Search,), {"Meta": meta, "search_field": field})


class _GenericConfigViewSet(AuditedConfigViewSet):
    pagination_class = _Pages

    def service_create(self, data, change):
        return config_save(instance=self.queryset.model(**data), change=change)

    def service_update(self, instance, data, change):
        for name, value in data.items():
            setattr(instance, name, value)
        return config_save(instance=instance, change=change)

    def service_delete(self, instance, change):
        config_delete(instance=instance, change=change)


@_config_schema(OidMappingSerializer, "oid_mapping", "Deletes the mapping: the trap shows as its bare OID again.")
class OidMappingViewSet(_GenericConfigViewSet):
    """Trap OID patterns → trap names, default severities and clear pairs."""

    queryset = OidMapping.objects.all().order_by("oid_pattern", "id")
    serializer_class = OidMappingSerializer
    filterset_class = _filterset(OidMapping, "trap_name")
    noun, label = "oid_mapping", "OID mapping"


@_config_schema(MaintenanceWindowSerializer, "maintenance_window", "Deletes the window (its audit rows keep its id).")
class MaintenanceWindowViewSet(_GenericConfigViewSet):
    """Maintenance windows: matching events are audited with suppressed_by and not forwarded."""

    queryset = MaintenanceWindow.objects.all().order_by("name", "id")
    serializer_class = MaintenanceWindowSerializer
    filterset_class = _filterset(MaintenanceWindow, "name")
    noun, label = "maintenance_window", "Maintenance window"

    @extend_schema(
        responses=inline_serializer(
            "MaintenanceWindowPreview",
            {"id": serializers.IntegerField(), "would_have_matched_7d": serializers.IntegerField()},
        )
    )
    @action(detail=True, methods=["get"])
    def preview(self, request, pk=None):
        """How many forwarded events of the last 7 days this window would have suppressed."""
        window = self.get_object()
        return Response({"id": window.pk, "would_have_matched_7d": window_preview_count(window)})


@_config_schema(TeamContactSerializer, "team_contact", "Deletes the contact: the team's digests wait for one.")
class TeamContactViewSet(_GenericConfigViewSet):
    """Team → e-mail addresses for Email_only digests."""

    queryset = TeamContact.objects.all().order_by("team")
    serializer_class = TeamContactSerializer
    filterset_class = _filterset(TeamContact, "team")
    noun, label = "team_contact", "Team contact"
