"""``GET/PUT /api/v2/config``: runtime settings (views only; the service validates and audits).

GET needs the read scope, PUT the admin scope (an admin API key or a superuser's session).
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from alerts.api.permissions import HasAdminScopeForWrites
from alerts.dynamic_config import runtime, runtime_forget
from alerts.models import RuntimeSetting
from alerts.runtime_catalog import CATALOG, RuntimeSettingError
from alerts.services.config import ConfigChange
from alerts.services.runtime import runtime_settings_set

MAX_BODY_BYTES = 64 * 1024


class ConfigPutSerializer(serializers.Serializer):
    settings = serializers.DictField(help_text="name -> new value (null returns a setting to its default)")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


def _error(message: str, detail: dict | None = None, code: int = status.HTTP_400_BAD_REQUEST) -> Response:
    return Response({"error": message, "detail": detail or {}}, status=code)


def runtime_settings_listing() -> dict:
    """Every runtime setting with its current value, default, type, range and description."""
    runtime_forget()  # an operator looking at the page sees PostgreSQL's values, not a second-old cache
    stored = set(RuntimeSetting.objects.filter(value__isnull=False).values_list("name", flat=True))
    return {
        name: {
            "value": runtime(name),
            "default": getattr(settings, spec.setting),
            "overridden": name in stored,
            **spec.describe(),
        }
        for name, spec in CATALOG.items()
    }


class RuntimeConfigView(APIView):
    """Runtime settings: changed without restart, live in every process within 5 s, audited."""

    permission_classes = [HasAdminScopeForWrites]

    @extend_schema(responses={200: OpenApiResponse(description="{settings: {name: {value, default, type, ...}}}")})
    def get(self, request):
        return Response({"settings": runtime_settings_listing()})

    @extend_schema(
        request=ConfigPutSerializer,
        responses={
            200: OpenApiResponse(description="{changed: {name: {old, new}}, settings: {...}}"),
            400: OpenApiResponse(description='{"error": "...", "detail": {name: reason}}'),
            413: OpenApiResponse(description="body too large"),
        },
    )
    def put(self, request):
        if int(request.headers.get("Content-Length") or 0) > MAX_BODY_BYTES:
            return _error("request body too large", code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        body = ConfigPutSerializer(data=request.data)
        if not body.is_valid():
            return _error("invalid request body", body.errors)
        values = body.validated_data["settings"]
        if not values:
            return _error("no settings given", {"settings": "give at least one name: value"})
        change = ConfigChange(user=request.user.get_username(), reason=body.validated_data.get("reason") or "api")
        try:
            changed = runtime_settings_set(values=values, change=change)
        except RuntimeSettingError as exc:
            return _error(str(exc), {"settings": str(exc)})
        return Response(
            {
                "changed": {name: {"old": old, "new": new} for name, (old, new) in changed.items()},
                "settings": runtime_settings_listing(),
            }
        )
