"""REST API views for the alerts domain: a few lines each, calling services and selectors."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from alerts import selectors
from alerts.api import filtersets, pagination
from alerts.api import serializers as s
from alerts.api.errors import Conflict
from alerts.api.permissions import HasAdminScope, request_actor
from alerts.models import AlertRule, ApiKey, ConfigAuditLog, DevelopmentHost, DeviceTeam
from alerts.services.api_keys import api_key_create, api_key_revoke
from alerts.services.config import (
    ConfigChange,
    dev_host_create,
    dev_host_delete,
    dev_host_update,
    device_team_create,
    device_team_delete,
    device_team_update,
    rule_create,
    rule_delete,
    rule_update,
)


class StrictQueryParamsMixin:
    """Refuses query parameters the endpoint does not know (400), rather than silently ignoring them."""

    def allowed_query_params(self) -> set[str]:
        allowed: set[str] = set()
        if getattr(self, "action", None) == "list":
            filterset_class = getattr(self, "filterset_class", None)
            if filterset_class is not None:
                allowed |= set(filterset_class.base_filters)
            paginator = getattr(self, "pagination_class", None)
            if paginator is not None:
                allowed |= {paginator.limit_query_param, paginator.offset_query_param}
        if getattr(self, "action", None) == "destroy" or self.request.method == "DELETE":
            allowed.add("reason")
        return allowed

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        unknown = sorted(set(request.query_params) - self.allowed_query_params())
        if unknown:
            raise serializers.ValidationError({name: ["Unknown query parameter."] for name in unknown})


def _change(request, reason: str | None) -> ConfigChange:
    return ConfigChange(user=request_actor(request), reason=reason or "api")


class AuditedConfigViewSet(StrictQueryParamsMixin, viewsets.ModelViewSet):
    """List/create/retrieve/update/delete through the audited configuration services.

    PUT and PATCH both change only the fields sent. Every write takes an
    optional ``reason`` (body, or ``?reason=`` on DELETE).
    """

    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]
    filter_backends = [DjangoFilterBackend]
    noun = "item"
    label = "Item"

    # Subclasses name their services.
    def service_create(self, data, change):
        raise NotImplementedError

    def service_update(self, instance, data, change):
        raise NotImplementedError

    def service_delete(self, instance, change):
        raise NotImplementedError

    def _answer(self, instance, verb: str, code=status.HTTP_200_OK) -> Response:
        body = {"id": instance.pk, "message": f"{self.label} {verb}", self.noun: self.get_serializer(instance).data}
        return Response(body, status=code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        reason = data.pop("reason", "")
        instance = self.service_create(data=data, change=_change(request, reason))
        return self._answer(instance, "created", status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        reason = data.pop("reason", "")
        if not data:
            raise serializers.ValidationError({"non_field_errors": ["No fields to update."]})
        instance = self.service_update(instance=instance, data=data, change=_change(request, reason))
        return self._answer(instance, "updated")

    def destroy(self, request, *args, **kwargs):
        instance = self.get_object()
        reasons = s.ReasonSerializer(data=request.data if isinstance(request.data, dict) else {})
        reasons.is_valid(raise_exception=True)
        reason = reasons.validated_data.get("reason") or request.query_params.get("reason", "")
        record_id = instance.pk
        # Soft deletes answer with the row as it now is; hard deletes with its last values.
        instance = self.service_delete(instance=instance, change=_change(request, reason[:500])) or instance
        body = {"id": record_id, "message": f"{self.label} deleted", self.noun: self.get_serializer(instance).data}
        return Response(body)


_REASON_PARAM = OpenApiParameter("reason", OpenApiTypes.STR, description="Why: recorded in the audit log.")


def _config_schema(item, noun: str, delete_description: str):
    write = s.write_response(noun, item)
    return extend_schema_view(
        create=extend_schema(responses={201: write}),
        update=extend_schema(responses={200: write}, description="Changes only the fields sent."),
        partial_update=extend_schema(responses={200: write}, description="Changes only the fields sent."),
        destroy=extend_schema(responses={200: write}, parameters=[_REASON_PARAM], description=delete_description),
    )


@_config_schema(s.AlertRuleSerializer, "rule", "Soft delete: the rule stays, with is_active=false.")
class AlertRuleViewSet(AuditedConfigViewSet):
    """Alert rules, highest priority first."""

    queryset = AlertRule.objects.all().order_by("-priority", "id")
    serializer_class = s.AlertRuleSerializer
    filterset_class = filtersets.AlertRuleFilterSet
    pagination_class = pagination.RulePagination
    noun, label = "rule", "Rule"

    def service_create(self, data, change):
        return rule_create(data=data, change=change)

    def service_update(self, instance, data, change):
        return rule_update(rule=instance, data=data, change=change)

    def service_delete(self, instance, change):
        rule_delete(rule=instance, change=change, soft=True)
        instance.refresh_from_db()
        return instance


class _ByHostname:
    """Development hosts and device teams are addressed by hostname (the v2.3 paths), any case."""

    lookup_field = "hostname"
    lookup_value_regex = "[^/]+"

    def get_object(self):
        obj = get_object_or_404(self.get_queryset(), hostname=self.kwargs["hostname"].strip().lower())
        self.check_object_permissions(self.request, obj)
        return obj


@_config_schema(s.DevelopmentHostSerializer, "dev_host", "Deletes the host: its events get prod handling again.")
class DevelopmentHostViewSet(_ByHostname, AuditedConfigViewSet):
    """Development hosts: their events get each rule's dev_handling."""

    queryset = DevelopmentHost.objects.all().order_by("hostname")
    serializer_class = s.DevelopmentHostSerializer
    filterset_class = filtersets.DevelopmentHostFilterSet
    pagination_class = pagination.DevHostPagination
    noun, label = "dev_host", "Development host"

    def service_create(self, data, change):
        return dev_host_create(data=data, change=change)

    def service_update(self, instance, data, change):
        return dev_host_update(host=instance, data=data, change=change)

    def service_delete(self, instance, change):
        dev_host_delete(host=instance, change=change)


@_config_schema(s.DeviceTeamSerializer, "team", "Deletes the override: the matched rule's team applies again.")
class DeviceTeamViewSet(_ByHostname, AuditedConfigViewSet):
    """Device teams: a host's team overrides the matched rule's."""

    queryset = DeviceTeam.objects.all().order_by("hostname")
    serializer_class = s.DeviceTeamSerializer
    filterset_class = filtersets.DeviceTeamFilterSet
    pagination_class = pagination.TeamPagination
    noun, label = "team", "Device team"

    def service_create(self, data, change):
        return device_team_create(data=data, change=change)

    def service_update(self, instance, data, change):
        return device_team_update(team=instance, data=data, change=change)

    def service_delete(self, instance, change):
        device_team_delete(team=instance, change=change)


class ConfigAuditLogViewSet(StrictQueryParamsMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Configuration changes (rules, hosts, teams, dead-letter actions), newest first."""

    queryset = ConfigAuditLog.objects.all().order_by("-changed_at", "-id")
    serializer_class = s.ConfigAuditLogSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = filtersets.ConfigAuditLogFilterSet
    pagination_class = pagination.AuditLogPagination


# --------------------------------------------------------------------------- events


class EventListView(APIView):
    """The event audit trail, newest first, keyset-paginated within a time window (default the last hour)."""

    @extend_schema(
        operation_id="v2_events_list", parameters=[s.EventQuerySerializer], responses={200: s.EventPageSerializer}
    )
    def get(self, request):
        query = s.EventQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        unknown = sorted(set(request.query_params) - set(s.EventQuerySerializer().fields))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown query parameter."] for name in unknown})
        params = dict(query.validated_data)
        limit = params.pop("limit")
        cursor = None
        if token := params.pop("cursor", None):
            try:
                cursor = selectors.EventCursor.decode(token)
            except ValueError:
                raise serializers.ValidationError({"cursor": ["Not a cursor this API handed out."]}) from None
        if params.get("rule_id") == "none":
            params["rule_id"], params["unmatched"] = None, True
        filters = selectors.EventFilters(**params)
        page = selectors.events_search(filters=filters, limit=limit, cursor=cursor)
        body = {
            "events": page.events,
            "next_cursor": page.next_cursor,
            "limit": limit,
            "since": filters.since,
            "until": filters.until,
            "total": page.total_estimate,
            "total_is_estimate": True,
        }
        return Response(s.EventPageSerializer(body).data)


class UnmatchedEventsView(APIView):
    """Hosts whose events no rule matched, over a window (default the last hour): count, first/last seen, a sample."""

    @extend_schema(
        operation_id="v2_events_unmatched",
        parameters=[s.UnmatchedQuerySerializer],
        responses={200: s.UnmatchedSummarySerializer},
    )
    def get(self, request):
        query = s.UnmatchedQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        unknown = sorted(set(request.query_params) - set(s.UnmatchedQuerySerializer().fields))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown query parameter."] for name in unknown})
        window = query.validated_data
        hosts = selectors.unmatched_summary(since=window["since"], until=window["until"], limit=window["limit"])
        return Response(
            s.UnmatchedSummarySerializer({"since": window["since"], "until": window["until"], "hosts": hosts}).data
        )


class EventTraceView(APIView):
    """What happened to one event: audit row, matched rule, forwarding outcome, dead letters."""

    @extend_schema(responses={200: s.EventTraceSerializer})
    def get(self, request, correlation_id):
        if request.query_params:
            raise serializers.ValidationError({name: ["Unknown query parameter."] for name in request.query_params})
        trace = selectors.event_trace(correlation_id)
        if trace is None:
            return Response(
                {"error": "Not found", "detail": {"message": "No event with this correlation id."}},
                status=status.HTTP_404_NOT_FOUND,
            )
        return Response(s.EventTraceSerializer(trace).data)


# --------------------------------------------------------------------------- API keys


@extend_schema_view(
    create=extend_schema(responses={201: s.ApiKeyCreatedSerializer}),
    destroy=extend_schema(
        responses={200: s.ApiKeyRevokedSerializer}, parameters=[_REASON_PARAM], description="Revokes the key for good."
    ),
)
class ApiKeyViewSet(
    StrictQueryParamsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Operator API keys (admin scope only): list, make (the key is in the answer, once), revoke."""

    queryset = ApiKey.objects.all().order_by("-created")
    serializer_class = s.ApiKeySerializer
    permission_classes = [HasAdminScope]
    pagination_class = pagination.ApiKeyPagination
    lookup_field = "prefix"
    lookup_value_regex = "[^/]+"

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        api_key, key = api_key_create(
            name=data["name"],
            scope=data.get("scope", "read"),
            changed_by=request_actor(request),
            reason=data.get("reason", ""),
        )
        body = {
            "prefix": api_key.prefix,
            "message": "API key created",
            "key": key,
            "api_key": self.get_serializer(api_key).data,
        }
        return Response(body, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        api_key = self.get_object()
        if api_key.revoked:
            raise Conflict("This API key is already revoked.")
        reason = request.query_params.get("reason", "")[:500]
        api_key = api_key_revoke(api_key=api_key, changed_by=request_actor(request), reason=reason)
        return Response(
            {"prefix": api_key.prefix, "message": "API key revoked", "api_key": self.get_serializer(api_key).data}
        )
