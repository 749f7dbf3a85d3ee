from django.contrib import admin
from django.urls import include, path

from mutt_project.health import health

urlpatterns = [
    path("health", health, name="health"),
    path("admin/", admin.site.urls),
    path("", include("ingest.urls")),
    path("", include("django_prometheus.urls")),
    # ---- issue 11: operations console (dashboard, runtime settings, metrics/SLO API) ----
    path("", include("remediation.console_urls")),
    path("api/v2/", include("alerts.api.runtime_urls")),
    # ---- end issue 11 ----
]
