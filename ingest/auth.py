"""Ingest API keys: constant-time comparison against every configured key."""

from __future__ import annotations

import hmac

from django.conf import settings


def request_api_key(request) -> str | None:
    key = request.headers.get("X-API-Key")
    if key:
        return key.strip()
    auth = request.headers.get("Authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return None


def api_key_valid(presented: str | None) -> bool:
    if not presented:
        return False
    candidate = presented.encode()
    ok = False
    # Compare against every key (no early exit) so timing says nothing about which matched.
    for key in settings.INGEST_API_KEYS:
        ok |= hmac.compare_digest(candidate, key.encode())
    return ok
