"""Configuration as code on the API: export, schema, validate, plan, apply, versions, rollback, CSV tables.

Thin views over ``alerts.services.config_apply`` (the functions ``manage.py config``
calls). Reads need the read scope, writes (apply, rollback, CSV upload) the admin
scope. A refused file is a 400 ``{"error", "detail": {"errors": [{path, line,
column, message}]}}``; a concurrent apply a 409.
"""

from __future__ import annotations

import io

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ParseError
from rest_framework.response import Response
from rest_framework.views import APIView

from alerts.api.errors import error_body
from alerts.api.parsers import SizeLimitedJSONParser, SizeLimitedTextParser, SizeLimitedYamlParser
from alerts.api.permissions import HasAdminScope, HasReadScope, request_actor
from alerts.config_file import SECTION_ORDER, ConfigFileInvalid, diff_text
from alerts.models import ConfigVersion
from alerts.services import config_apply as svc
from alerts.services.config import ConfigChange
from alerts.services.config_export import config_export
from alerts.services.config_plan import config_plan
from alerts.services.lookup_tables import LookupTableInvalid, lookup_table_load_csv

# 10,000 rules are about 2 MiB of YAML; lookup tables loaded through the file can be larger.
MAX_BODY_BYTES = 64 * 1024 * 1024
_REFUSED = OpenApiResponse(description='{"error", "detail": {"errors": [{path, line, column, message}]}}')


def _error(code: int, detail) -> Response:
    return Response(error_body(code, detail), status=code)


def _refused(exc: ConfigFileInvalid) -> Response:
    body = error_body(status.HTTP_400_BAD_REQUEST, {"errors": svc.errors_json(exc)})
    body["error"] = "Invalid configuration file"
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


def _flag(value) -> bool:
    return value in (True, "1", "true", "yes", "on")


class _FileView(APIView):
    parser_classes = [SizeLimitedJSONParser, SizeLimitedYamlParser, SizeLimitedTextParser]
    max_body_bytes = MAX_BODY_BYTES
    permission_classes = [HasReadScope]

    def _file(self, request) -> tuple[str, dict]:
        """The file text and the options: a JSON body {"content", ...}, or the YAML itself with query options."""
        data = request.data
        if isinstance(data, str):
            return data, dict(request.query_params.items())
        if isinstance(data, dict) and isinstance(data.get("content"), str):
            return data["content"], {**request.query_params.dict(), **data}
        raise ParseError('send the YAML file as the body (Content-Type: application/yaml) or JSON {"content": "..."}')


class ConfigExportView(APIView):
    """The live configuration as the YAML file (``only``: comma-separated sections)."""

    permission_classes = [HasReadScope]

    @extend_schema(parameters=[OpenApiParameter("only", str)], responses={200: OpenApiResponse(description="{content, content_hash, version}")})  # fmt: skip
    def get(self, request):
        only = [s for s in request.query_params.get("only", "").split(",") if s] or None
        unknown = sorted(set(only or []) - set(SECTION_ORDER))
        if unknown:
            return _error(status.HTTP_400_BAD_REQUEST, {"only": [f"unknown section(s): {', '.join(unknown)}"]})
        text = config_export(only)
        from alerts.config_file import content_hash

        return Response({"content": text, "content_hash": content_hash(text), "version": svc.config_version_latest()})


class ConfigSchemaView(APIView):
    """The configuration file's JSON Schema (draft 2020-12)."""

    permission_classes = [HasReadScope]

    @extend_schema(responses={200: OpenApiResponse(description="JSON Schema")})
    def get(self, request):
        return Response(svc.schema())


class ConfigValidateView(_FileView):
    """Schema and model validation; 400 with line and column per error."""

    @extend_schema(request=None, responses={200: OpenApiResponse(description='{"valid": true}'), 400: _REFUSED})
    def post(self, request):
        text, _ = self._file(request)
        try:
            svc.config_validate(text)
        except ConfigFileInvalid as exc:
            return _refused(exc)
        return Response({"valid": True})


class ConfigPlanView(_FileView):
    """The diff against the live configuration and the backtest of the change (``days``, default 7; 0: none)."""

    @extend_schema(request=None, responses={200: OpenApiResponse(description="{base_version, changes, diff, backtest}"), 400: _REFUSED})  # fmt: skip
    def post(self, request):
        text, options = self._file(request)
        try:
            days = float(options.get("days", 7))
        except (TypeError, ValueError):
            return _error(status.HTTP_400_BAD_REQUEST, {"days": ["must be a number"]})
        try:
            plan = config_plan(text, days=days, prune=_flag(options.get("prune")))
        except ConfigFileInvalid as exc:
            return _refused(exc)
        return Response(plan.as_dict())


class ConfigApplyView(_FileView):
    """Apply (admin scope): one transaction, every object audited, one version; 409 when another apply won."""

    permission_classes = [HasAdminScope]

    @extend_schema(request=None, responses={200: OpenApiResponse(description="{version, changes, diff}"), 400: _REFUSED, 409: _REFUSED})  # fmt: skip
    def post(self, request):
        text, options = self._file(request)
        reason = str(options.get("reason") or "").strip()
        if not reason:
            return _error(status.HTTP_400_BAD_REQUEST, {"reason": ["say why (it is kept with the version)"]})
        base = options.get("base_version")
        try:
            base_version = int(base) if base not in (None, "") else None
        except (TypeError, ValueError):
            return _error(status.HTTP_400_BAD_REQUEST, {"base_version": ["must be a version number"]})
        change = ConfigChange(user=request_actor(request), reason=reason[:2000])
        try:
            result = svc.config_apply(text, change=change, prune=_flag(options.get("prune")), base_version=base_version)
        except ConfigFileInvalid as exc:
            return _refused(exc)
        except svc.ConfigConflict as exc:
            return _error(status.HTTP_409_CONFLICT, str(exc))
        return Response({**result, "diff": diff_text(result["changes"])})


def _version_row(v: ConfigVersion, content: bool = False) -> dict:
    row = {
        "number": v.number,
        "created_at": v.created_at.isoformat(),
        "created_by": v.created_by,
        "reason": v.reason,
        "source": v.source,
        "content_hash": v.content_hash,
    }
    if content:
        row["content"] = v.content
    return row


class ConfigVersionListView(APIView):
    """The numbered versions, newest first (the last 200)."""

    permission_classes = [HasReadScope]

    @extend_schema(operation_id="config_versions_list", responses={200: OpenApiResponse(description="{results: [{number, created_at, created_by, reason, source, content_hash}]}")})  # fmt: skip
    def get(self, request):
        return Response({"results": [_version_row(v) for v in ConfigVersion.objects.order_by("-number")[:200]]})


class ConfigVersionDetailView(APIView):
    """One version with its file."""

    permission_classes = [HasReadScope]

    @extend_schema(
        operation_id="config_version_retrieve", responses={200: OpenApiResponse(description="version with content")}
    )
    def get(self, request, number: int):
        return Response(_version_row(get_object_or_404(ConfigVersion, number=number), content=True))


class ConfigVersionDiffView(APIView):
    """Field-by-field changes from version ``number`` to version ``other``."""

    permission_classes = [HasReadScope]

    @extend_schema(responses={200: OpenApiResponse(description="{changes, diff}")})
    def get(self, request, number: int, other: int):
        a = get_object_or_404(ConfigVersion, number=number)
        b = get_object_or_404(ConfigVersion, number=other)
        changes = svc.config_versions_diff(a, b)
        return Response({"from": a.number, "to": b.number, "changes": changes, "diff": diff_text(changes)})


class ConfigRollbackView(APIView):
    """Roll back to a version (admin scope): applied whole, itself a new audited version."""

    permission_classes = [HasAdminScope]

    @extend_schema(request=None, responses={200: OpenApiResponse(description="{version, changes}"), 409: _REFUSED})
    def post(self, request, number: int):
        version = get_object_or_404(ConfigVersion, number=number)
        reason = str((request.data or {}).get("reason") or "") if isinstance(request.data, dict) else ""
        try:
            result = svc.config_rollback(version, change=ConfigChange(user=request_actor(request), reason=reason))
        except svc.ConfigConflict as exc:
            return _error(status.HTTP_409_CONFLICT, str(exc))
        return Response({**result, "diff": diff_text(result["changes"])})


class LookupTableCsvView(_FileView):
    """Create or replace a lookup table from CSV (admin scope; header line first, ``key_column`` default the first)."""

    permission_classes = [HasAdminScope]

    @extend_schema(
        request=None, responses={200: OpenApiResponse(description="{name, key_column, value_columns, rows}")}
    )
    def post(self, request, name: str):
        data = request.data
        if not isinstance(data, str):
            raise ParseError("send the CSV as the body (Content-Type: text/csv)")
        change = ConfigChange(user=request_actor(request), reason=request.query_params.get("reason", "csv upload"))
        try:
            result = lookup_table_load_csv(
                name=name, stream=io.StringIO(data, newline=""), change=change,
                key_column=request.query_params.get("key_column"),
            )  # fmt: skip
        except LookupTableInvalid as exc:
            return _error(status.HTTP_400_BAD_REQUEST, {"csv": [str(exc)]})
        return Response(result)
