from django.contrib import admin
from django.urls import include, path
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from mutt_project.health import health
from mutt_project.metrics_auth import metrics
from mutt_project.sso import oidc_only_when_enabled

urlpatterns = [
    path("health", health, name="health"),
    path("api/v2/", include("alerts.api.rule_lab_urls")),  # rule lab (issue 10): before any rules/<id> route
    path("api/v2/", include("alerts.api.config_file_urls")),  # configuration as code
    path("admin/", admin.site.urls),
    # Single sign-on (404 unless MUTT_OIDC_ENABLED): /oidc/authenticate/ and /oidc/callback/.
    path(
        "oidc/authenticate/",
        oidc_only_when_enabled(OIDCAuthenticationRequestView.as_view()),
        name="oidc_authentication_init",
    ),
    path(
        "oidc/callback/",
        oidc_only_when_enabled(OIDCAuthenticationCallbackView.as_view()),
        name="oidc_authentication_callback",
    ),
    path("", include("ingest.urls")),
    path("metrics", metrics, name="prometheus-django-metrics"),  # bearer token when METRICS_TOKEN is set
    # ---- issue 11: operations console (dashboard, runtime settings, metrics/SLO API) ----
    path("", include("remediation.console_urls")),
    path("api/v2/", include("alerts.api.runtime_urls")),
    # ---- end issue 11 ----
]

# --- issue 9: operator REST API, its schema and Swagger UI (vendored assets) ---
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView  # noqa: E402

urlpatterns += [
    path("", include("alerts.api.urls")),
    path("", include("remediation.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[]), name="api-schema"),
    path(
        "api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema", permission_classes=[]), name="api-docs"
    ),
]
handler404 = "alerts.api.errors.not_found"  # JSON under /api/ (DEBUG off)
# --- end issue 9 ---------------------------------------------------------------
