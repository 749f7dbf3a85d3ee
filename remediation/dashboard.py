"""The operations dashboard at ``/``: one page, its panels re-fetched by htmx every 5 s.

Reads only through ``remediation.status`` (the same selectors as
``/api/v2/metrics``), cached 5 s in Redis, so any number of open dashboards
costs the database one status read per 5 s.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from remediation.status import DASHBOARD_MAX_AGE_SECONDS, status_cached

REFRESH_SECONDS = 5


def _context(request) -> dict:
    status = status_cached(max_age=DASHBOARD_MAX_AGE_SECONDS)
    series = status.get("eps_series") or []
    return {
        "status": status,
        "eps_chart": {"x": [t for t, _ in series], "y": [round(v, 3) for _, v in series]},
        "flower_url": settings.FLOWER_URL,
        "refresh_seconds": REFRESH_SECONDS,
    }


@require_GET
@login_required
def dashboard(request):
    return render(request, "dashboard/index.html", _context(request))


@require_GET
@login_required
def dashboard_panels(request):
    return render(request, "dashboard/_panels.html", _context(request))
