"""Per-process cache of the compiled RuleSet, invalidated by a Redis version key.

A worker calls ``ruleset_current()`` once per batch: one Redis GET; when the
version moved (or ``RULE_CACHE_TTL`` passed, in case a bump was lost) the
rules are re-read from PostgreSQL and recompiled.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager

from django.conf import settings
from django.db import transaction
from redis.exceptions import RedisError

from alerts import metrics
from alerts.dynamic_config import runtime
from alerts.enrichment import Lookups
from alerts.rule_engine import RuleSet
from mutt_project import redis_keys
from mutt_project.redis_client import get_redis

log = logging.getLogger(__name__)

# The clock the TTL is measured on; tests swap it instead of sleeping.
clock: Callable[[], float] = time.monotonic

_cached: RuleSet | None = None
_cached_version: str | None = None
_loaded_at: float = 0.0


def rules_version_bump() -> None:
    try:
        get_redis().incr(redis_keys.RULES_VERSION)
    except RedisError as exc:
        # Workers still refresh within RULE_CACHE_TTL; count and say so.
        log.warning("rule version bump failed (%s); workers refresh within RULE_CACHE_TTL", type(exc).__name__)


_batch = threading.local()


def rules_version_bump_on_commit() -> None:
    if getattr(_batch, "depth", 0):
        _batch.pending = True  # one bump for the whole batch (``rules_version_bump_once``)
        return
    transaction.on_commit(rules_version_bump)


@contextmanager
def rules_version_bump_once():
    """Inside: every bump request folds into one bump on commit (a configuration apply is one version)."""
    _batch.depth = getattr(_batch, "depth", 0) + 1
    if _batch.depth == 1:
        _batch.pending = False
    try:
        yield
    finally:
        _batch.depth -= 1
        if _batch.depth == 0 and _batch.pending:
            _batch.pending = False
            transaction.on_commit(rules_version_bump)


_lookups: tuple[tuple, Lookups] | None = None  # (tables' (id, updated_at), compiled tables)


def lookups_current() -> Lookups:
    """The lookup tables, re-read only when a table changed (a million rows are not re-read per rule edit)."""
    global _lookups
    from alerts.selectors import lookup_tables_load, lookup_tables_stamp

    stamp = lookup_tables_stamp()
    if _lookups is None or _lookups[0] != stamp:
        _lookups = (stamp, lookup_tables_load())
    return _lookups[1]


def _load_ruleset() -> RuleSet:
    from alerts.selectors import (
        dev_hosts_list,
        device_teams_map,
        maintenance_windows_active,
        rules_active_specs,
        trap_mappings_active,
    )
    from alerts.traps import TrapIndex

    return RuleSet.compile(
        rules_active_specs(),
        dev_hosts_list(),
        device_teams_map(),
        traps=TrapIndex(trap_mappings_active()),
        windows=maintenance_windows_active(),
        lookups=lookups_current(),
        default_handling=settings.DEFAULT_HANDLING,
        default_team=settings.DEFAULT_TEAM,
    )


def _current_version() -> str | None:
    try:
        return get_redis().get(redis_keys.RULES_VERSION) or "0"
    except RedisError:
        return None  # Redis down: keep the cached set until the TTL


def ruleset_current() -> RuleSet:
    global _cached, _cached_version, _loaded_at
    version = _current_version()
    now = clock()
    stale = now - _loaded_at > runtime("rule_cache_ttl")
    if _cached is None or stale or (version is not None and version != _cached_version):
        try:
            _cached = _load_ruleset()
        except Exception:
            metrics.RULE_CACHE_LOAD_SUCCESS.set(0)  # the reference's gauge; the error propagates unchanged
            raise
        metrics.RULE_CACHE_LOAD_SUCCESS.set(1)
        _cached_version = version
        _loaded_at = now
        metrics.RULE_CACHE_RELOADS.inc()
        log.info("rule set compiled: %d active rules (version %s)", len(_cached), version)
        for rule in _cached.skipped:
            log.warning("rule %s can never match and is left out (saved before validation?)", rule.id)
    return _cached


def ruleset_forget() -> None:
    """Drop the cache (tests)."""
    global _cached, _cached_version, _lookups
    _cached = None
    _cached_version = None
    _lookups = None
