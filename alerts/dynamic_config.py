"""The one accessor for runtime settings: ``runtime("moog_rate_limit")``.

Per-process cache of the operators' values (PostgreSQL table
``runtime_settings``). A reader pays a dict lookup; about once a second
(``_CHECK_SECONDS``) one reader also GETs the Redis version key that every
change bumps, and re-reads the table when it moved. The table is re-read every
``_REREAD_SECONDS`` anyway, so a lost bump (Redis flushed or down) costs
seconds, not correctness. Settings without an operator's value resolve to
their Django setting (the environment default) at every call, so
``override_settings`` in tests and start-up environment keep working.

If PostgreSQL or Redis cannot be read, the last known values stay in force
(logged and counted), never an exception at the point of action.

Why not the reference's pub/sub watcher thread: a thread per Celery prefork
child and per gunicorn worker, holding a Redis connection each, for what one
GET per second per process does with no state to lose (docs/runtime-settings.md).
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import DatabaseError
from redis.exceptions import RedisError

from alerts.runtime_catalog import CATALOG, setting_spec
from mutt_project import redis_keys
from mutt_project.redis_client import get_redis

log = logging.getLogger(__name__)

_CHECK_SECONDS = 1.0  # how often one process looks at the version key
_REREAD_SECONDS = 30.0  # re-read the table even when no bump was seen

_lock = threading.Lock()
_state: dict = {"values": {}, "version": None, "checked": float("-inf"), "loaded": float("-inf")}


def _load() -> dict:
    from alerts.models import RuntimeSetting  # the models load after this module may be imported

    return {
        name: value
        for name, value in RuntimeSetting.objects.filter(value__isnull=False).values_list("name", "value")
        if name in CATALOG
    }


def _refresh(now: float) -> None:
    """Look at the version key; re-read the table when it moved or the re-read is due."""
    _state["checked"] = now
    try:
        version = get_redis().get(redis_keys.RUNTIME_SETTINGS_VERSION)
    except RedisError as exc:
        log.warning("runtime settings: version key unreadable (%s); re-reading on schedule", type(exc).__name__)
        version = _state["version"]
    if version == _state["version"] and now - _state["loaded"] < _REREAD_SECONDS:
        return
    try:
        _state["values"] = _load()
    except DatabaseError as exc:
        log.warning("runtime settings: table unreadable (%s); keeping the last values", type(exc).__name__)
        return
    _state["version"], _state["loaded"] = version, now


def runtime(name: str):
    """The current value of runtime setting ``name`` (operator's value, else the environment default)."""
    now = time.monotonic()
    if now - _state["checked"] >= _CHECK_SECONDS and _lock.acquire(blocking=False):
        # One thread refreshes; the others answer with the values they have.
        try:
            _refresh(now)
        finally:
            _lock.release()
    values = _state["values"]
    if name in values:
        return values[name]
    return getattr(settings, setting_spec(name).setting)


def runtime_all() -> dict:
    """Every runtime setting's current value (for the API and the dashboard)."""
    return {name: runtime(name) for name in CATALOG}


def runtime_forget() -> None:
    """Force the next read to look at Redis and PostgreSQL (after a change in this process, and in tests)."""
    _state["checked"] = float("-inf")
    _state["loaded"] = float("-inf")


def runtime_reset() -> None:
    """Start from "no operator values" at the current version (tests: the test database starts
    empty, and a rolled-back test's values must not outlive it). Reads Redis, not PostgreSQL."""
    try:
        version = get_redis().get(redis_keys.RUNTIME_SETTINGS_VERSION)
    except RedisError:
        version = None
    now = time.monotonic()
    with _lock:
        _state.update(values={}, version=version, checked=now, loaded=now)
