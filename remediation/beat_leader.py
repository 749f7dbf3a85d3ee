"""Beat on every node, one scheduling: the leader holds a PostgreSQL advisory lock on its own session.

Every node runs Beat. Each Beat keeps one database session of its own (not
Django's request connection, which the scheduler closes and reopens) and asks
``pg_try_advisory_lock`` on it; the Beat that gets the lock schedules, the
others stand by and ask again every ``BEAT_LEADER_POLL_SECONDS``. The lock
belongs to the session: when the leader dies its session ends and PostgreSQL
frees the lock at once (kill -9: the kernel closes the socket), or within
about ``BEAT_LEADER_KEEPALIVE_SECONDS`` when its machine vanishes (TCP
keepalives on both ends of the session, set below). The leader checks its
session on every tick (at most every 5 s) and stops scheduling as soon as the
session fails, so two Beats overlap only while a partitioned leader has not yet
noticed; the per-task locks of ``remediation.beat_lock`` absorb that overlap.

Why PostgreSQL and not a Redis lease: the schedule and each entry's last run
already live in PostgreSQL (django-celery-beat), so the lock sits with the
data it guards and a new leader reads the last leader's ``last_run_at``; a
Redis lease would be lost by a Sentinel failover that promotes a replica
without it (replication is asynchronous), giving two leaders at once.
"""

from __future__ import annotations

import copy
import logging
import socket

from django.conf import settings
from django.db import DatabaseError, InterfaceError, connections
from django.db.utils import load_backend

log = logging.getLogger(__name__)

# The advisory lock's key: one per installation (its database). Arbitrary, fixed:
# 0x6D757474 is "mutt", 0x62656174 is "beat".
BEAT_LEADER_LOCK_KEY = 0x6D757474_62656174


def _keepalive_options(seconds: int) -> dict:
    """libpq parameters so that a dead peer breaks this session within about ``seconds``."""
    interval = max(1, seconds // 6)
    return {
        "keepalives": 1,
        "keepalives_idle": interval * 3,
        "keepalives_interval": interval,
        "keepalives_count": 3,
        "tcp_user_timeout": seconds * 1000,
    }


class LeaderLease:
    """This Beat's claim on the leader lock; ``held()`` checks it and tries to take it when free."""

    def __init__(self) -> None:
        self._wrapper = None
        self._held = False

    def _connect(self):
        base = connections.settings["default"]
        params = copy.deepcopy(base)
        params["OPTIONS"] = dict(params.get("OPTIONS") or {}) | _keepalive_options(
            settings.BEAT_LEADER_KEEPALIVE_SECONDS
        )
        params["CONN_MAX_AGE"] = None
        wrapper = load_backend(params["ENGINE"]).DatabaseWrapper(params, "beat-leader")
        seconds = settings.BEAT_LEADER_KEEPALIVE_SECONDS
        interval = max(1, seconds // 6)
        with wrapper.cursor() as cursor:
            # The server's side of the same: it frees the lock of a leader whose machine vanished.
            cursor.execute(
                "SELECT set_config('tcp_keepalives_idle', %s, false), set_config('tcp_keepalives_interval', %s, false),"
                " set_config('tcp_keepalives_count', '3', false), set_config('tcp_user_timeout', %s, false),"
                " set_config('application_name', %s, false)",
                [str(interval * 3), str(interval), str(seconds * 1000), f"mutt-beat {socket.gethostname()}"],
            )
        return wrapper

    def _drop(self) -> None:
        if self._wrapper is not None:
            try:
                self._wrapper.close()
            except (DatabaseError, InterfaceError):
                pass  # the session is broken already; closing it is all that is left
        self._wrapper = None
        self._held = False

    def held(self) -> bool:
        """True while this Beat is the leader. Never raises: a database error means "not the leader"."""
        try:
            if self._wrapper is None:
                self._wrapper = self._connect()
            with self._wrapper.cursor() as cursor:
                if self._held:
                    cursor.execute("SELECT 1")  # the session, hence the lock, is still there
                else:
                    cursor.execute("SELECT pg_try_advisory_lock(%s)", [BEAT_LEADER_LOCK_KEY])
                    self._held = bool(cursor.fetchone()[0])
        except (DatabaseError, InterfaceError) as exc:
            if self._held:
                log.warning("beat: leader session lost (%s); scheduling stops", type(exc).__name__)
            else:
                log.warning("beat: leader lock unavailable (%s)", type(exc).__name__)
            self._drop()
        return self._held

    def release(self) -> None:
        self._drop()  # closing the session frees the lock
