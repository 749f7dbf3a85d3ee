"""Backpressure: is the inbox backlog over MAX_INGEST_QUEUE_SIZE?

The backlog is read from PostgreSQL at most every INGEST_BACKLOG_CHECK_SECONDS
per process (not per request): a second-old figure is plenty to say "retry
later", and the query must not cost every request a round trip.
"""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.db import connection

from alerts.dynamic_config import runtime
from ingest.metrics import QUEUE_DEPTH

# Cost must not grow with the backlog (the check runs every second in every
# ingest process, and matters most when the backlog is huge). Unfinished
# batches lie between the oldest unfinished id (partial index
# ingest_batches_unfinished) and the newest id; the query probes at most
# _PROBES evenly spaced ids of that span by primary key and scales their
# events up to the span. Up to _PROBES batches every id is probed and the
# figure is exact; finished batches and unused ids inside the span count zero.
_PROBES = 10_000
_BACKLOG_SQL = """
WITH bounds AS (
    SELECT (SELECT min(id) FROM ingest_batches WHERE status IN ('pending', 'processing')) AS lo,
           (SELECT max(id) FROM ingest_batches) AS hi
), probes AS (
    SELECT g.id FROM bounds, generate_series(lo, hi, greatest(1, (hi - lo + 1) / %s)) AS g(id)
)
SELECT (SELECT hi - lo + 1 FROM bounds), count(*), coalesce(sum(b.event_count), 0)
FROM probes p LEFT JOIN ingest_batches b ON b.id = p.id AND b.status IN ('pending', 'processing')
"""


def _backlog_from(span: int | None, probes: int, events: int) -> int:
    if not span or not probes:
        return 0
    return int(int(events) * span / probes)


_lock = threading.Lock()
_last = {"value": 0, "checked": float("-inf")}


def backlog_events() -> int:
    """Unclassified events (estimated past ``_PROBES`` batches), refreshed at most every check interval.

    One thread per process refreshes the figure; the others keep answering
    with the previous one meanwhile instead of queueing behind the query.
    """
    if time.monotonic() - _last["checked"] >= settings.INGEST_BACKLOG_CHECK_SECONDS and _lock.acquire(blocking=False):
        try:
            with connection.cursor() as cursor:
                cursor.execute(_BACKLOG_SQL, [_PROBES])
                _last["value"] = _backlog_from(*cursor.fetchone())
            _last["checked"] = time.monotonic()
            QUEUE_DEPTH.set(_last["value"])
        finally:
            _lock.release()
    return _last["value"]


def backlog_full() -> bool:
    return backlog_events() > runtime("max_ingest_queue_size")


def backlog_forget() -> None:
    """Force the next check to read PostgreSQL (tests change the backlog under it)."""
    _last["checked"] = float("-inf")
