"""``/api/v2/metrics``, ``/api/v1/slo`` and ``/api/v2/slo`` (read through ``remediation.status``).

GET needs the read scope (an API key of any scope, or a logged-in user).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from alerts.api.permissions import HasReadScope
from remediation.status import metrics_summary, slo_report, status_cached


class MetricsView(APIView):
    """Counters, queue depths, breaker state and EPS, cached 5 s in Redis for every web process."""

    permission_classes = [HasReadScope]

    @extend_schema(responses={200: OpenApiResponse(description="timestamp, counters, queues, circuit_breaker, eps")})
    def get(self, request):
        return Response(metrics_summary(status_cached()))


class SloView(APIView):
    """SLO compliance from MUTT's own data (ingest availability, classification latency)."""

    permission_classes = [HasReadScope]

    @extend_schema(
        parameters=[OpenApiParameter("window_hours", int, description="1-24, default SLO_WINDOW_HOURS")],
        responses={
            200: OpenApiResponse(description="timestamp, overall_compliant, slos{name: target/actual/compliant}")
        },
    )
    def get(self, request):
        raw = request.query_params.get("window_hours")
        if raw is not None and (not raw.isdigit() or not 1 <= int(raw) <= 24):
            return Response(
                {"error": "window_hours must be an integer from 1 to 24", "detail": {"window_hours": raw}},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(slo_report(int(raw) if raw else None))
