"""The process-wide Redis client (a connection pool per process): the one place a Redis client is built.

Without Sentinel settings the client talks to ``REDIS_URL``. With
``REDIS_SENTINEL_HOSTS`` and ``REDIS_SENTINEL_MASTER`` it asks the Sentinels
for the master on every new connection (redis-py's ``Sentinel.master_for``):
after a failover the next connection goes to the promoted replica, so every
user of ``get_redis()`` follows it without a restart. The database number,
user name and the master's password still come from ``REDIS_URL``; the
Sentinels' own password is ``REDIS_SENTINEL_PASSWORD``. The Celery broker
uses the same settings through kombu's ``sentinel://`` transport
(``celery_broker_settings``).
"""

from __future__ import annotations

from urllib.parse import quote, unquote, urlparse

import redis
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel

_client: redis.Redis | None = None
_sentinel: Sentinel | None = None


def sentinel_enabled() -> bool:
    return bool(getattr(settings, "REDIS_SENTINEL_HOSTS", None))


def get_redis() -> redis.Redis:
    global _client
    if _client is None:
        common = {
            "socket_timeout": settings.REDIS_SOCKET_TIMEOUT,
            "socket_connect_timeout": settings.REDIS_SOCKET_TIMEOUT,
            "health_check_interval": 30,
            "decode_responses": True,
            **_rotation(),
        }
        if sentinel_enabled():
            _client = get_sentinel().master_for(settings.REDIS_SENTINEL_MASTER, **common, **_url_credentials())
        else:
            # rediss:// (REDIS_TLS_ENABLED): verify against REDIS_CA_CERT_PATH
            _client = redis.Redis.from_url(settings.REDIS_URL, **common, **settings.REDIS_SSL_OPTIONS)
    return _client


def reset_redis() -> None:
    """Drop the cached client (tests that point settings at another Redis)."""
    global _client, _sentinel
    if _client is not None:
        _client.close()
    if _sentinel is not None:
        for node in _sentinel.sentinels:
            node.close()
    _client = None
    _sentinel = None


# ---- Redis through Sentinel ----
def get_sentinel() -> Sentinel:
    """The process's Sentinel handle (the Sentinels listed in ``REDIS_SENTINEL_HOSTS``)."""
    global _sentinel
    if _sentinel is None:
        timeout = settings.REDIS_SOCKET_TIMEOUT
        # No retries on a Sentinel: one that does not answer is skipped for the next, at once.
        no_retry = Retry(NoBackoff(), 0)
        _sentinel = Sentinel(
            [_host_port(entry) for entry in settings.REDIS_SENTINEL_HOSTS],
            sentinel_kwargs={
                "socket_timeout": timeout,
                "socket_connect_timeout": timeout,
                "retry": no_retry,
                **_sentinel_auth(),
            },
        )
    return _sentinel


def _host_port(entry: str) -> tuple[str, int]:
    host, _, port = entry.strip().rpartition(":")
    if not host or not port.isdigit():
        raise ImproperlyConfigured(f"REDIS_SENTINEL_HOSTS: {entry!r} is not host:port")
    return host.strip("[]"), int(port)


def _sentinel_auth() -> dict[str, str]:
    password = getattr(settings, "REDIS_SENTINEL_PASSWORD", "")
    return {"password": password} if password else {}


def _url_credentials() -> dict:
    """Database number, user name and password of the master, from ``REDIS_URL``."""
    parts = urlparse(settings.REDIS_URL)
    path = parts.path.lstrip("/")
    found: dict = {"db": int(path) if path.isdigit() else 0}
    if parts.username:
        found["username"] = unquote(parts.username)
    if parts.password and not getattr(settings, "REDIS_PASSWORD_ROTATION", False):
        found["password"] = unquote(parts.password)
    return found


def sentinel_master_address() -> tuple[str, int]:
    """The master's address as the Sentinels see it now (``MasterNotFoundError`` when none knows it)."""
    return get_sentinel().discover_master(settings.REDIS_SENTINEL_MASTER)


def sentinel_check() -> tuple[str, int]:
    """At start: the master's address, or ``ImproperlyConfigured`` naming the setting that is wrong.

    Distinguishes "no Sentinel answers" (``REDIS_SENTINEL_HOSTS``) from "the
    Sentinels answer but know no master by that name" (``REDIS_SENTINEL_MASTER``).
    """
    name = settings.REDIS_SENTINEL_MASTER
    hosts = settings.REDIS_SENTINEL_HOSTS
    answered: list[str] = []
    errors: list[str] = []
    for entry, node in zip(hosts, get_sentinel().sentinels, strict=True):
        try:
            address = node.sentinel_get_master_addr_by_name(name)
        except redis.AuthenticationError as exc:
            raise ImproperlyConfigured(f"REDIS_SENTINEL_PASSWORD: the Sentinel at {entry} refused it ({exc})") from exc
        except (redis.RedisError, OSError) as exc:
            errors.append(f"{entry}: {type(exc).__name__}")
            continue
        answered.append(entry)
        if address:
            host = address[0].decode() if isinstance(address[0], bytes) else address[0]
            return host, int(address[1])
    if not answered:
        raise ImproperlyConfigured(f"REDIS_SENTINEL_HOSTS: no Sentinel reachable ({'; '.join(errors)})")
    raise ImproperlyConfigured(
        f"REDIS_SENTINEL_MASTER: the Sentinels at {', '.join(answered)} know no master named {name!r}"
    )


def startup_check() -> None:
    """Every MUTT process at start: with Sentinel settings, stop now with an error naming a wrong one."""
    if sentinel_enabled():
        sentinel_check()


def celery_broker_settings(broker_url: str, sentinel_hosts: list[str], master: str, sentinel_password: str):
    """``(broker_url, extra transport options)`` for kombu's ``sentinel://`` transport.

    One ``sentinel://`` URL per Sentinel, each carrying the master's
    credentials and database from ``broker_url`` (kombu connects to the master
    with them); the Sentinels' own password goes in ``sentinel_kwargs``.
    Called from the settings module, so it reads nothing from ``settings``.
    """
    parts = urlparse(broker_url)
    auth = ""
    if parts.username or parts.password:
        auth = f"{quote(unquote(parts.username or ''), safe='')}:{quote(unquote(parts.password or ''), safe='')}@"
    db = parts.path.lstrip("/") or "0"
    urls = []
    for entry in sentinel_hosts:
        host, port = _host_port(entry)
        host = f"[{host}]" if ":" in host else host
        urls.append(f"sentinel://{auth}{host}:{port}/{db}")
    # As for get_sentinel(): a Sentinel that does not answer is skipped at once, not retried.
    sentinel_kwargs: dict = {"socket_timeout": 5, "socket_connect_timeout": 5, "retry": Retry(NoBackoff(), 0)}
    if sentinel_password:
        sentinel_kwargs["password"] = sentinel_password
    return ";".join(urls), {"master_name": master, "sentinel_kwargs": sentinel_kwargs}


# ---- end Redis through Sentinel ----


# --- password rotation (issue 12): REDIS_PASS_CURRENT/NEXT, no password in REDIS_URL ---
def _rotation() -> dict:
    if not getattr(settings, "REDIS_PASSWORD_ROTATION", False):
        return {}
    from mutt_project.secrets import RedisPasswordProvider

    return {"credential_provider": RedisPasswordProvider(settings.REDIS_URL)}
