"""Ingest keys: the valid key hashes, held per process and re-read at most every few seconds.

Keys are ``alerts.IngestKey`` rows (named, hashed, revocable in the admin and
the API; keys in ``INGEST_API_KEYS`` are imported at migrate and again when an
ingest process first reads the keys, so a key added to the environment works
after a restart; the import is by hash, so a revoked key stays revoked). The hot path does
no database query: it hashes the presented key and looks it up in an in-memory
set that is re-read when older than ``INGEST_KEY_REFRESH_SECONDS``, so a
revoked key is refused by every ingest process within that time. Several keys
may be valid at once, so a key is rotated without downtime.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import Error as DbApiError  # DatabaseError and InterfaceError (a closed connection)

from alerts.models import IngestKey
from alerts.models.ingest_keys import ingest_key_hash

log = logging.getLogger(__name__)

_lock = threading.Lock()
_valid: frozenset[str] | None = None
_read_at = 0.0
_environment_imported = False


def presented_api_key(header: Callable[[str], str | None]) -> str | None:
    """The key from ``X-API-Key``, else from ``Authorization: Bearer``."""
    key = (header("X-API-Key") or "").strip()
    if key:
        return key
    auth = header("Authorization") or ""
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return None


def _valid_hashes() -> frozenset[str]:
    global _valid, _read_at
    now = time.monotonic()
    if _valid is not None and now - _read_at < settings.INGEST_KEY_REFRESH_SECONDS:
        return _valid
    with _lock:
        if _valid is not None and time.monotonic() - _read_at < settings.INGEST_KEY_REFRESH_SECONDS:
            return _valid
        try:
            _environment_import_once()
            _valid = frozenset(IngestKey.objects.valid().values_list("key_hash", flat=True))
        except DbApiError as exc:
            # Keep the last set (or, before the first read, the environment's keys): a database
            # outage answers 503 on store anyway, and must not turn into 401s.
            log.warning("ingest keys not re-read (%s); using the last set", type(exc).__name__)
            if _valid is None:
                _valid = frozenset(ingest_key_hash(k) for k in settings.INGEST_API_KEYS)
        _read_at = time.monotonic()
        return _valid


def _environment_import_once() -> None:
    global _environment_imported
    if _environment_imported:
        return
    from alerts.services.ingest_keys import ingest_keys_import_environment

    ingest_keys_import_environment()
    _environment_imported = True


def ingest_keys_forget() -> None:
    """Re-read the keys on the next request (tests, and after a change in this process)."""
    global _valid
    _valid = None


def api_key_valid(presented: str | None) -> bool:
    if not presented:
        return False
    return ingest_key_hash(presented) in _valid_hashes()
