"""Ingest API keys: constant-time comparison against every configured key.

Several keys may be valid at once (INGEST_API_KEYS, comma-separated) so a key
can be rotated without downtime. They authenticate ingest only: nothing else
in MUTT reads them.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from django.conf import settings


def presented_api_key(header: Callable[[str], str | None]) -> str | None:
    """The key from ``X-API-Key``, else from ``Authorization: Bearer``."""
    key = (header("X-API-Key") or "").strip()
    if key:
        return key
    auth = header("Authorization") or ""
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return None


def api_key_valid(presented: str | None) -> bool:
    if not presented:
        return False
    candidate = presented.encode("utf-8", "surrogateescape")
    ok = False
    # Compare against every key (no early exit) so timing says nothing about which matched.
    for key in settings.INGEST_API_KEYS:
        ok |= hmac.compare_digest(candidate, key.encode())
    return ok
