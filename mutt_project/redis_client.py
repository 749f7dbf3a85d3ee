"""The process-wide Redis client (a connection pool per process)."""

from __future__ import annotations

import redis
from django.conf import settings

_client: redis.Redis | None = None


def get_redis() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
            socket_connect_timeout=settings.REDIS_SOCKET_TIMEOUT,
            health_check_interval=30,
            decode_responses=True,
            **settings.REDIS_SSL_OPTIONS,  # rediss:// (REDIS_TLS_ENABLED): verify against REDIS_CA_CERT_PATH
            **_rotation(),
        )
    return _client


def reset_redis() -> None:
    """Drop the cached client (tests that point settings at another Redis)."""
    global _client
    _client = None


# --- password rotation (issue 12): REDIS_PASS_CURRENT/NEXT, no password in REDIS_URL ---
def _rotation() -> dict:
    if not getattr(settings, "REDIS_PASSWORD_ROTATION", False):
        return {}
    from mutt_project.secrets import RedisPasswordProvider

    return {"credential_provider": RedisPasswordProvider(settings.REDIS_URL)}
