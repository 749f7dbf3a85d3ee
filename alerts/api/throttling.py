"""Request rate per API key (or user, or address) → 429 with ``Retry-After``.

Counted in Redis (``alerts.key_rate``), so the limit holds across every web
process: a key limited to 10/s gets at most 10 requests accepted in any
second, however many gunicorn workers serve it. A key's own ``rate_limit``
wins over ``API_THROTTLE_RATE``. When Redis cannot be reached the request is
let through (logged): the API stays usable, only the limit is off.

Accepted responses carry ``X-RateLimit-Limit`` and ``X-RateLimit-Counted-At``
(Redis's clock in microseconds when the request was counted), so a client
can pace itself on the server's clock rather than its own.
"""

from __future__ import annotations

import logging

from django.conf import settings
from redis.exceptions import RedisError
from rest_framework.throttling import BaseThrottle

from alerts.key_rate import key_rate_acquire, parse_rate
from mutt_project.client_ip import client_ip

log = logging.getLogger(__name__)


class ApiClientRateThrottle(BaseThrottle):
    def __init__(self) -> None:
        self.wait_seconds: float | None = None

    def _ident(self, request) -> str:
        user = request.user
        prefix = getattr(user, "key_prefix", None)
        if prefix:
            return f"key:{prefix}"
        if user and user.is_authenticated:
            return f"user:{user.pk}"
        return f"addr:{client_ip(request)}"  # X-Forwarded-For only behind MUTT_BEHIND_PROXY

    def allow_request(self, request, view) -> bool:
        api_key = request.auth if hasattr(request.auth, "rate_limit") else None
        rate = (api_key.rate_limit if api_key is not None else "") or settings.API_THROTTLE_RATE
        parsed = parse_rate(rate)
        if parsed is None:
            return True
        limit, period = parsed
        try:
            decision = key_rate_acquire(self._ident(request), limit, period)
        except RedisError as exc:
            log.warning("API rate limit not counted (%s): request let through", type(exc).__name__)
            return True
        if decision.allowed:
            request._request.mutt_rate = (rate, decision.now_us)
            return True
        self.wait_seconds = decision.retry_after
        return False

    def wait(self) -> float | None:
        return self.wait_seconds


class RateLimitHeadersMiddleware:
    """Copies what the throttle counted onto the response (``X-RateLimit-Limit``, ``X-RateLimit-Counted-At``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        counted = getattr(request, "mutt_rate", None)
        if counted is not None:
            response["X-RateLimit-Limit"] = counted[0]
            response["X-RateLimit-Counted-At"] = str(counted[1])
        return response
