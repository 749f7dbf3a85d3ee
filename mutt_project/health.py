"""``/health``: PostgreSQL and Redis reachable, else 503 (for load balancers)."""

from __future__ import annotations

import logging

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


def health(request):
    checks = {"postgres": _check_postgres(), "redis": _check_redis()}
    healthy = all(v == "ok" for v in checks.values())
    body = {"status": "healthy" if healthy else "unhealthy", "service": settings.SERVICE_NAME, "checks": checks}
    return JsonResponse(body, status=200 if healthy else 503)
