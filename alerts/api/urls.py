"""API routes for the alerts domain: /api/v2/..., and the v2.3 paths under /api/v1 (rules, audit-logs, dev-hosts, teams)."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from alerts.api import lifecycle, schema, views  # noqa: F401  (schema: API key scheme; lifecycle: issue 14)

router = SimpleRouter(trailing_slash=False)
router.register("rules", views.AlertRuleViewSet, basename="rule")
router.register("dev-hosts", views.DevelopmentHostViewSet, basename="dev-host")
router.register("teams", views.DeviceTeamViewSet, basename="team")
router.register("audit-logs", views.ConfigAuditLogViewSet, basename="audit-log")
router.register("api-keys", views.ApiKeyViewSet, basename="api-key")
# --- issue 14: alert lifecycle configuration ---
router.register("oid-mappings", lifecycle.OidMappingViewSet, basename="oid-mapping")
router.register("maintenance-windows", lifecycle.MaintenanceWindowViewSet, basename="maintenance-window")
router.register("team-contacts", lifecycle.TeamContactViewSet, basename="team-contact")

v1 = SimpleRouter(trailing_slash=False)
v1.register("rules", views.AlertRuleViewSet, basename="v1-rule")
v1.register("audit-logs", views.ConfigAuditLogViewSet, basename="v1-audit-log")
v1.register("dev-hosts", views.DevelopmentHostViewSet, basename="v1-dev-host")
v1.register("teams", views.DeviceTeamViewSet, basename="v1-team")

urlpatterns = [
    path("api/v2/events", views.EventListView.as_view(), name="event-list"),
    path("api/v2/events/unmatched", views.UnmatchedEventsView.as_view(), name="event-unmatched"),
    path("api/v2/events/<uuid:correlation_id>", views.EventTraceView.as_view(), name="event-trace"),
    path("api/v2/", include(router.urls)),
    path("api/v1/", include(v1.urls)),
]
