"""The client's address as MUTT trusts it (login lockouts, throttling by address).

``REMOTE_ADDR`` unless ``MUTT_BEHIND_PROXY`` is on: then the address our own
proxy appended to ``X-Forwarded-For`` (``MUTT_PROXY_COUNT`` proxies from the
right; default 1). A client can write anything into the left of that header,
so it is read only behind a proxy and only from the right.
"""

from __future__ import annotations

from django.conf import settings


def forwarded_client(forwarded_for: str, proxy_count: int) -> str | None:
    """The address ``proxy_count`` hops from the right of an ``X-Forwarded-For`` value (pure)."""
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    if proxy_count < 1 or len(hops) < proxy_count:
        return None
    return hops[-proxy_count]


def client_ip(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "") or ""
    if not settings.MUTT_BEHIND_PROXY:
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return forwarded_client(forwarded, settings.MUTT_PROXY_COUNT) or remote
