"""Time bounds on every database session of a Celery worker process (issue 13).

A worker's connections get a ``statement_timeout`` and a ``lock_timeout`` as
they are opened (Django's ``connection_created``), so a hung query or a lock
held elsewhere cancels the statement instead of stalling the worker: the
error is a ``DatabaseError`` and the task's ``autoretry_for`` retries it (the
retry is logged by ``mutt_project.celery``). The web and ingest processes are
left alone: an operator's query in the admin may need longer, and ingest has
its own bound (503 with Retry-After). docs/reliability.md, "Bounds".

``session_limits`` is pure: which limits a worker consuming ``queues`` gets.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.db.backends.signals import connection_created

from mutt_project.queues import Queue

log = logging.getLogger(__name__)

_limits: tuple[int, int] | None = None  # set once in the worker's main process; inherited by the pool


def session_limits(queues: Iterable[str]) -> tuple[int, int]:
    """(statement_timeout_ms, lock_timeout_ms) for a worker consuming ``queues``.

    A worker that serves the maintenance queue (backtests, rule health, partition
    maintenance scan or alter large tables) gets the longer statement bound; a
    pipeline worker (classify, forward) the short one. An empty list means "all
    queues", so the longer bound.
    """
    names = set(queues)
    statement = settings.WORKER_STATEMENT_TIMEOUT_MS
    if not names or Queue.MAINTENANCE.value in names:
        statement = max(statement, settings.MAINTENANCE_STATEMENT_TIMEOUT_MS)
    return statement, settings.WORKER_LOCK_TIMEOUT_MS


def session_limits_sql(limits: tuple[int, int]) -> str:
    statement, lock = limits
    return f"SET statement_timeout = {int(statement)}; SET lock_timeout = {int(lock)}"


def _apply(sender, connection, **_kwargs) -> None:
    if _limits is not None and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(session_limits_sql(_limits))


def worker_limits_enable(queues: Iterable[str]) -> tuple[int, int]:
    """Called once when a worker starts: every connection opened from now on is bounded."""
    global _limits
    _limits = session_limits(queues)
    connection_created.connect(_apply, dispatch_uid="mutt-worker-db-limits")
    # A connection opened before this point (none normally) is closed so the next one is bounded.
    from django.db import connections

    connections.close_all()
    log.info("worker database sessions: statement_timeout=%d ms, lock_timeout=%d ms", *_limits)
    return _limits
