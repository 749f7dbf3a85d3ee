"""The Moogsoft webhook client: one POST, classified into success / transient / permanent."""

from __future__ import annotations

import logging
import time

import orjson
import requests
from django.conf import settings
from redis.exceptions import RedisError

from forwarding.metrics import MOOG_RETRY_COUNT
from mutt_project import redis_keys
from mutt_project.log_format import log_context
from mutt_project.redis_client import get_redis
from mutt_project.version import VERSION

log = logging.getLogger(__name__)


class ForwardTransientError(Exception):
    """Retry later: 5xx, 408, 429, timeout, connection error."""

    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class ForwardPermanentError(Exception):
    """Dead-letter now: 4xx other than 408/429."""

    def __init__(self, message: str, status: int, body_excerpt: str):
        super().__init__(message)
        self.status = status
        self.body_excerpt = body_excerpt


_session: requests.Session | None = None


def _get_session() -> requests.Session:
    global _session
    if _session is None:
        session = requests.Session()
        session.headers["Content-Type"] = "application/json"
        session.headers["User-Agent"] = f"MUTT/{VERSION}"  # Moogsoft's logs name the sender and its release
        if settings.MOOG_API_KEY:
            session.headers[settings.MOOG_API_KEY_HEADER] = settings.MOOG_API_KEY
        if settings.MOOG_USERNAME:
            session.auth = (settings.MOOG_USERNAME, settings.MOOG_PASSWORD)
        session.verify = settings.MOOG_CA_BUNDLE or settings.MOOG_VERIFY_TLS
        # Proxy settings from the environment (HTTPS_PROXY, NO_PROXY) are resolved
        # once for the webhook URL: re-reading the environment on every request
        # cost more CPU than the request itself.
        session.proxies.update(requests.utils.get_environ_proxies(settings.MOOG_WEBHOOK_URL))
        session.trust_env = False
        _session = session
    return _session


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date; the normal backoff applies


def moog_post(payload: dict) -> int:
    """POST one alert; return the status on 2xx, raise ForwardTransientError / ForwardPermanentError.

    A failure is also kept as Moogsoft's last error for the dashboard.
    """
    with log_context(correlation_id=payload.get("external_id")):
        return _post_recorded(json_body=payload)


def moog_post_batch(body: bytes) -> int:
    """POST several alerts in one request (``forwarding.payload.moog_batch_body``); same outcomes.

    The answer is for the request as a whole: a 4xx says Moogsoft refused at
    least one event, not which (the caller splits the batch to find out).
    """
    return _post_recorded(data=body)


def _post_recorded(json_body: dict | None = None, data: bytes | None = None) -> int:
    """``_post``, with the retry counter, the last error and one log line per request."""
    try:
        status = _post(json_body=json_body, data=data)
    except ForwardTransientError as exc:
        MOOG_RETRY_COUNT.inc()
        moog_last_error_record(str(exc))
        log.warning("moogsoft POST failed, will retry: %s", exc)
        raise
    except ForwardPermanentError as exc:
        moog_last_error_record(str(exc))
        log.warning("moogsoft POST refused, dead letter: %s", exc)
        raise
    # One line per request: forwarding is paced to the rate limit, so this stays cheap.
    log.info("moogsoft POST %s", status)
    return status


def _post(json_body: dict | None = None, data: bytes | None = None) -> int:
    try:
        response = _get_session().post(
            settings.MOOG_WEBHOOK_URL, json=json_body, data=data, timeout=settings.MOOG_TIMEOUT
        )
    except requests.Timeout:
        raise ForwardTransientError("timeout") from None
    except requests.RequestException as exc:
        raise ForwardTransientError(f"connection error: {type(exc).__name__}") from None
    status = response.status_code
    if 200 <= status < 300:
        return status
    excerpt = response.text[:500]
    if status in (408, 429) or status >= 500:
        raise ForwardTransientError(
            f"HTTP {status}: {excerpt[:200]}",
            status=status,
            retry_after=_retry_after(response.headers.get("Retry-After")),
        )
    raise ForwardPermanentError(f"HTTP {status}", status=status, body_excerpt=excerpt)


def moog_last_error_record(error: str) -> None:
    """Keep the last failure (time and message, no payload) for the dashboard; a Redis error only logs."""
    try:
        get_redis().set(redis_keys.MOOG_LAST_ERROR, orjson.dumps({"at": time.time(), "error": error[:300]}), ex=86400)
    except RedisError as exc:
        log.warning("moogsoft last error not recorded (%s)", type(exc).__name__)


def moog_last_error() -> dict | None:
    """``{"at": epoch, "error": text}`` of the last failed Moogsoft request in the last day, if any."""
    raw = get_redis().get(redis_keys.MOOG_LAST_ERROR)
    return orjson.loads(raw) if raw else None
