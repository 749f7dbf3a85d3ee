"""``/health`` and ``/metrics`` answer whatever the Host header says.

Kubelet probes and Prometheus reach a pod by its IP (``Host: 10.1.2.3:8080``),
which is not in DJANGO_ALLOWED_HOSTS; Django's host check would answer 400 and
the pod would never be ready. These two read-only paths skip that check (and
the middleware after this one); every other path is checked as usual.
"""

from __future__ import annotations

from django.urls import get_resolver

from mutt_project.health import health
from mutt_project.metrics_auth import metrics

# /metrics keeps its bearer token (METRICS_TOKEN): only the host check is skipped.
PROBE_VIEWS = {"/health": health, "/metrics": metrics}


class ProbePathsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        # Load the URL configuration now, as the first routed request would: every
        # module whose metrics /metrics should show is imported before the first scrape.
        get_resolver().url_patterns  # noqa: B018 - imported for its side effect

    def __call__(self, request):
        view = PROBE_VIEWS.get(request.path_info)
        if view is not None and request.method in ("GET", "HEAD"):
            return view(request)
        return self.get_response(request)
