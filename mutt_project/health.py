"""``/health``: PostgreSQL and Redis reachable, else 503 (for load balancers).

The body carries MUTT's ``checks`` and ``service`` and the reference guide's
fields: ``status`` (healthy/unhealthy), ``redis`` (connected/disconnected),
``timestamp`` (UTC, ISO 8601) and ``queue_depth`` (events accepted and not yet
classified: the inbox backlog, which is what v2.x's ingest queue length was).
Load balancers need only the status code (HAProxy ``option httpchk GET /health``).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from redis.exceptions import RedisError

from mutt_project.redis_client import get_redis

log = logging.getLogger(__name__)


def _check_postgres() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:  # any driver error means "down" to a load balancer
        log.warning("health: postgres check failed: %s", type(exc).__name__)
        connection.close_if_unusable_or_obsolete()
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - closing a dead connection may raise; it is dead either way
            pass
        return "down"


def _check_redis() -> str:
    try:
        get_redis().ping()
        return "ok"
    except (RedisError, OSError) as exc:
        log.warning("health: redis check failed: %s", type(exc).__name__)
        return "down"


def _queue_depth() -> int | None:
    from ingest.backpressure import backlog_events  # the ingest app's estimate, refreshed at most once a second

    try:
        return backlog_events()
    except Exception:  # noqa: BLE001 - the depth is informative; health is decided by the checks
        connection.close()
        return None


def health(request):
    checks = {"postgres": _check_postgres(), "redis": _check_redis()}
    healthy = all(v == "ok" for v in checks.values())
    body = {
        "status": "healthy" if healthy else "unhealthy",
        "service": settings.SERVICE_NAME,
        "checks": checks,
        "redis": "connected" if checks["redis"] == "ok" else "disconnected",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "queue_depth": _queue_depth() if checks["postgres"] == "ok" else None,
    }
    return JsonResponse(body, status=200 if healthy else 503)
