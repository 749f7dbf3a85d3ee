from django.contrib import admin
from django.urls import include, path

from mutt_project.health import health

urlpatterns = [
    path("health", health, name="health"),
    path("api/v2/", include("alerts.api.rule_lab_urls")),  # rule lab (issue 10): before any rules/<id> route
    path("admin/", admin.site.urls),
    path("", include("ingest.urls")),
    path("", include("django_prometheus.urls")),
]
