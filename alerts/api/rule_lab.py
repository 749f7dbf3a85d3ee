"""Rule lab API: explain sample events, backtest a draft change, rule health (all read-only).

Thin views over ``alerts.services.rule_lab`` / ``rule_backtest`` and
``alerts.selectors_rule_lab``; every error is a JSON body with its status.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.response import Response
from rest_framework.views import APIView

from alerts.api.errors import error_body
from alerts.api.permissions import HasReadScope
from alerts.api.serializers import ErrorSerializer
from alerts.models.rule_lab import RuleBacktest
from alerts.selectors_rule_lab import HEALTH_ORDERINGS, rule_health_list
from alerts.services.rule_backtest import (
    BacktestConflict,
    BacktestWindowInvalid,
    backtest_cancel,
    backtest_start,
    backtests_expire,
)
from alerts.services.rule_lab import MAX_SAMPLE_EVENTS, DraftInvalid, events_explain, ruleset_with_drafts

# A thousand events of 64 KiB would be 64 MiB: far more than a sample needs.
MAX_BODY_BYTES = 8 * 1024 * 1024


class _RuleLabView(APIView):
    # API keys or a session (the project's defaults); everything here is read-only, so the read scope suffices.
    permission_classes = [HasReadScope]
    max_body_bytes = MAX_BODY_BYTES

    def _body(self, request) -> dict:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY_BYTES:
            raise _TooLarge(f"body larger than {MAX_BODY_BYTES} bytes")
        data = request.data
        if not isinstance(data, dict):
            raise ParseError("body must be a JSON object")
        return data


class _TooLarge(Exception):
    pass


def _error(status_code: int, detail) -> Response:
    """The API's one error shape: ``{"error": "...", "detail": {...}}``."""
    return Response(error_body(status_code, detail), status=status_code)


def _too_large(message: str) -> Response:
    return _error(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, message)


def _draft_refused(exc: DraftInvalid) -> Response:
    return _error(status.HTTP_400_BAD_REQUEST, {"rules": exc.messages})


class RuleTestRequest(serializers.Serializer):
    events = serializers.ListField(child=serializers.JSONField(), help_text=f"Up to {MAX_SAMPLE_EVENTS} events")
    rules = serializers.ListField(child=serializers.JSONField(), required=False, help_text="Draft rules")
    replace = serializers.BooleanField(required=False, default=False)


class RuleTestResponse(serializers.Serializer):
    results = serializers.ListField(
        child=serializers.JSONField(),
        help_text="Per event: decision, winner (and why), runners_up, host facts, moog_payload; or index + error",
    )
    draft_rule_ids = serializers.ListField(child=serializers.IntegerField())


ErrorResponse = ErrorSerializer


class BacktestResponse(serializers.Serializer):
    id = serializers.UUIDField()
    state = serializers.ChoiceField(choices=["queued", "running", "done", "failed", "cancelled"])
    events_scanned = serializers.IntegerField()
    percent = serializers.FloatField()
    window = serializers.JSONField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    cancel_requested = serializers.BooleanField()
    error = serializers.CharField(allow_null=True)
    result = serializers.JSONField(allow_null=True, help_text="The report once done (kept 24 h)")


class RuleHealthRow(serializers.Serializer):
    rule_id = serializers.IntegerField()
    rule = serializers.CharField(allow_null=True)
    priority = serializers.IntegerField(allow_null=True)
    hits_24h = serializers.IntegerField()
    hits_7d = serializers.IntegerField()
    hits_30d = serializers.IntegerField()
    last_matched = serializers.DateTimeField(allow_null=True)
    candidates = serializers.IntegerField()
    never_matched = serializers.BooleanField()
    shadowed = serializers.BooleanField()
    shadowed_by = serializers.IntegerField(allow_null=True)
    duplicate = serializers.BooleanField()
    duplicate_of = serializers.ListField(child=serializers.IntegerField())
    window_days = serializers.IntegerField()
    replay_since = serializers.DateTimeField(allow_null=True)
    replayed_events = serializers.IntegerField()
    computed_at = serializers.DateTimeField()


class RuleHealthResponse(serializers.Serializer):
    results = RuleHealthRow(many=True)


class RuleTestView(_RuleLabView):
    """Explain sample events against the live rules, or a draft on top of (or instead of) them."""

    @extend_schema(request=RuleTestRequest, responses={200: RuleTestResponse, 400: ErrorResponse, 413: ErrorResponse})
    def post(self, request):
        try:
            body = self._body(request)
        except _TooLarge as exc:
            return _too_large(str(exc))
        events = body.get("events")
        if not isinstance(events, list) or not events:
            return _error(status.HTTP_400_BAD_REQUEST, {"events": ["events must be a non-empty list"]})
        if len(events) > MAX_SAMPLE_EVENTS:
            return _too_large(f"at most {MAX_SAMPLE_EVENTS} events per request ({len(events)} sent)")
        try:
            draft = ruleset_with_drafts(body.get("rules") or [], bool(body.get("replace", False)))
        except DraftInvalid as exc:
            return _draft_refused(exc)
        return Response({"results": events_explain(events, draft), "draft_rule_ids": sorted(draft.draft_ids)})


class BacktestRequest(serializers.Serializer):
    rules = serializers.ListField(child=serializers.JSONField(), help_text="Draft rules (new, edited, deactivated)")
    replace = serializers.BooleanField(required=False, default=False)
    days = serializers.FloatField(required=False, help_text="Window: the last N days (default 7, up to retention)")


def _backtest_body(backtest: RuleBacktest) -> dict:
    return {
        "id": str(backtest.pk),
        "state": backtest.status,
        "events_scanned": backtest.scanned,
        "percent": round(backtest.percent, 1),
        "window": {"start": backtest.window_start.isoformat(), "end": backtest.window_end.isoformat()},
        "created_at": backtest.created_at.isoformat(),
        "finished_at": backtest.finished_at.isoformat() if backtest.finished_at else None,
        "cancel_requested": backtest.cancel_requested,
        "error": backtest.error or None,
        "result": backtest.result,
    }


class BacktestStartView(_RuleLabView):
    """Start a backtest (a maintenance task); 202 with its id, 409 if the user already runs one."""

    @extend_schema(request=BacktestRequest, responses={202: BacktestResponse, 400: ErrorResponse, 409: ErrorResponse})
    def post(self, request):
        try:
            body = self._body(request)
        except _TooLarge as exc:
            return _too_large(str(exc))
        rules = body.get("rules")
        if not isinstance(rules, list) or (not rules and not body.get("replace")):
            return _error(status.HTTP_400_BAD_REQUEST, {"rules": ["rules must be a non-empty list of draft rules"]})
        try:
            backtest = backtest_start(
                user=request.user.get_username(), rules=rules, replace=bool(body.get("replace")), days=body.get("days")
            )
        except DraftInvalid as exc:
            return _draft_refused(exc)
        except BacktestWindowInvalid as exc:
            return _error(status.HTTP_400_BAD_REQUEST, {"days": [str(exc)]})
        except BacktestConflict as exc:
            body = error_body(status.HTTP_409_CONFLICT, "a backtest of yours is still running")
            body["id"] = str(exc.running_id)  # the running one, to poll or cancel
            return Response(body, status=status.HTTP_409_CONFLICT)
        return Response(_backtest_body(backtest), status=status.HTTP_202_ACCEPTED)


class BacktestDetailView(_RuleLabView):
    """Progress (state, events scanned, percent) and, when done, the report (kept 24 h)."""

    @extend_schema(responses={200: BacktestResponse, 404: ErrorResponse})
    def get(self, request, backtest_id):
        backtests_expire()
        return Response(_backtest_body(get_object_or_404(RuleBacktest, pk=backtest_id)))


class BacktestCancelView(_RuleLabView):
    """Cancel: a queued backtest stops at once, a running one after its current chunk."""

    @extend_schema(request=None, responses={200: BacktestResponse, 403: ErrorResponse, 404: ErrorResponse})
    def post(self, request, backtest_id):
        backtest = get_object_or_404(RuleBacktest, pk=backtest_id)
        if backtest.user != request.user.get_username() and not request.user.is_superuser:
            return _error(status.HTTP_403_FORBIDDEN, "only its owner can cancel a backtest")
        return Response(_backtest_body(backtest_cancel(backtest)))


class RuleHealthView(_RuleLabView):
    """Per-rule hits (24 h / 7 d / 30 d), last match and flags, from the latest background computation."""

    @extend_schema(
        parameters=[OpenApiParameter("ordering", str, enum=sorted(HEALTH_ORDERINGS))],
        responses={200: RuleHealthResponse, 400: ErrorResponse},
    )
    def get(self, request):
        ordering = request.query_params.get("ordering", "rule_id")
        if ordering not in HEALTH_ORDERINGS:
            return _error(status.HTTP_400_BAD_REQUEST, {"ordering": [f"must be one of {sorted(HEALTH_ORDERINGS)}"]})
        return Response({"results": rule_health_list(ordering)})
