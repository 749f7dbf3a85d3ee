from django.contrib import admin
from django.urls import include, path

from mutt_project.health import health

urlpatterns = [
    path("health", health, name="health"),
    path("admin/", admin.site.urls),
    path("", include("ingest.urls")),
    path("", include("django_prometheus.urls")),
]
