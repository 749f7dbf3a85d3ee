"""The Moogsoft webhook client: one POST, classified into success / transient / permanent."""

from __future__ import annotations

import requests
from django.conf import settings


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
    """POST one alert; return the status on 2xx, raise ForwardTransientError / ForwardPermanentError."""
    return _post(json_body=payload)


def moog_post_batch(body: bytes) -> int:
    """POST several alerts in one request (``forwarding.payload.moog_batch_body``); same outcomes.

    The answer is for the request as a whole: a 4xx says Moogsoft refused at
    least one event, not which (the caller splits the batch to find out).
    """
    return _post(data=body)


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
