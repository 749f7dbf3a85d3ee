"""Reads that may go to the read replica (``DATABASE_REPLICA_URL``), and when they fall back to the primary.

Heavy reads an operator starts (event search and trace, backtests, rule
health, dashboard statistics, the SLO) run inside ``replica_reads()``; the
router (``ReplicaRouter``) sends their ORM reads to the ``replica`` alias, and
code that opens its own cursor asks ``read_alias()``. Writes always go to the
primary; everything outside ``replica_reads()`` (classification, forwarding,
ingest, the admin) reads the primary too, so nothing that decides what to
write ever reads a stale row.

The replica is used while it answers and its replay lags less than
``REPLICA_MAX_LAG_SECONDS``; otherwise reads fall back to the primary. The
check runs at most once per ``REPLICA_CHECK_SECONDS`` per process and is
exported as ``mutt_replica_lag_seconds`` / ``mutt_replica_in_use``
(docs/ha.md, "Read replica").
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from prometheus_client import Gauge

log = logging.getLogger(__name__)

REPLICA_ALIAS = "replica"

REPLICA_LAG = Gauge("mutt_replica_lag_seconds", "Replay lag of the read replica (-1: unreachable)")
REPLICA_IN_USE = Gauge("mutt_replica_in_use", "1 while replica-eligible reads go to the read replica")

# Caught up (nothing received that is not replayed): no lag, however old the last transaction.
_LAG_SQL = """
SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0
            WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
            ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END
"""

_in_replica_reads: contextvars.ContextVar[bool] = contextvars.ContextVar("mutt_replica_reads", default=False)


@dataclass(frozen=True)
class ReplicaState:
    configured: bool
    usable: bool
    lag_seconds: float | None  # None: not configured or unreachable
    checked_at: float

    def as_dict(self) -> dict:
        return {"configured": self.configured, "in_use": self.usable, "lag_seconds": self.lag_seconds}


_lock = threading.Lock()
_state: ReplicaState | None = None


def replica_configured() -> bool:
    return REPLICA_ALIAS in settings.DATABASES


def replica_usable(lag: float | None, max_lag: float) -> bool:
    """Pure: the replica serves reads while it answers and lags at most ``max_lag`` seconds."""
    return lag is not None and lag <= max_lag


def _check() -> ReplicaState:
    lag: float | None
    try:
        with connections[REPLICA_ALIAS].cursor() as cursor:
            cursor.execute(_LAG_SQL)
            lag = float(cursor.fetchone()[0])
    except DatabaseError as exc:
        log.warning("read replica unreachable, reading from the primary: %s", str(exc).splitlines()[0][:200])
        _close_quietly()
        lag = None
    usable = replica_usable(lag, settings.REPLICA_MAX_LAG_SECONDS)
    if lag is not None and not usable:
        log.warning("read replica lags %.1f s (> REPLICA_MAX_LAG_SECONDS): reading from the primary", lag)
    REPLICA_LAG.set(-1 if lag is None else lag)
    REPLICA_IN_USE.set(1 if usable else 0)
    return ReplicaState(True, usable, lag, time.monotonic())


def _close_quietly() -> None:
    try:
        connections[REPLICA_ALIAS].close()
    except DatabaseError:
        pass  # a dead connection may fail to close; it is gone either way


def replica_state() -> ReplicaState:
    """The replica's state, checked at most once per ``REPLICA_CHECK_SECONDS`` in this process."""
    global _state
    if not replica_configured():
        return ReplicaState(False, False, None, time.monotonic())
    with _lock:
        if _state is None or time.monotonic() - _state.checked_at >= settings.REPLICA_CHECK_SECONDS:
            _state = _check()
        return _state


def replica_forget() -> None:
    """Check again on the next read (tests; a caller that saw the replica fail)."""
    global _state
    with _lock:
        _state = None


def read_alias() -> str:
    """The alias a replica-eligible read should use now: ``replica`` or the primary."""
    return REPLICA_ALIAS if replica_state().usable else DEFAULT_DB_ALIAS


@contextmanager
def replica_reads() -> Iterator[str]:
    """ORM reads inside go to the replica when it is usable; yields the alias chosen."""
    token = _in_replica_reads.set(True)
    try:
        yield read_alias()
    finally:
        _in_replica_reads.reset(token)


class ReplicaRouter:
    """Django database router: replica-eligible reads to the replica, everything else to the primary."""

    def db_for_read(self, model, **hints):
        return read_alias() if _in_replica_reads.get() else DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two copies

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS
