"""URLs of the operations console (issue 11): dashboard, status API."""

from django.urls import path

from remediation.api.status import MetricsView, SloView
from remediation.dashboard import dashboard, dashboard_panels

urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("dashboard/panels", dashboard_panels, name="dashboard-panels"),
    path("api/v2/metrics", MetricsView.as_view(), name="api-metrics"),
    path("api/v1/metrics/current", MetricsView.as_view(), name="api-metrics-v1"),  # the v2.3 path
    path("api/v1/slo", SloView.as_view(), name="api-slo-v1"),
    path("api/v2/slo", SloView.as_view(), name="api-slo"),
]
