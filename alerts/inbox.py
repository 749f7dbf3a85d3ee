"""Accepting a batch: ingest hands validated events to alerts here.

The accept path is the hottest code in MUTT (one call per ingest request), so
it is raw SQL in autocommit mode, never an ORM save, and it group-commits:
requests that arrive while another thread of the same process is writing wait
for it and are then written together, one multi-row INSERT and one commit
(one fsync) for all of them. Each request still gets its own inbox row, and
each caller returns only once its row is committed, so a 202 still means
"stored".
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection

# Column list spelt out: Django sets no database defaults, so status and
# attempts are given here exactly as IngestBatch's field defaults.
_INSERT_BATCHES = "INSERT INTO ingest_batches (events, event_count, received_at, status, attempts) VALUES "
_ROW = "(%s::jsonb, %s, %s, 'pending', 0)"


@dataclass
class _Accept:
    events_json: str
    event_count: int
    received_at: datetime
    done: bool = False
    error: Exception | None = None
    wakeup: threading.Event = field(default_factory=threading.Event)


class _GroupCommit:
    """Concurrent accepts in one process share one INSERT and one commit.

    At most one thread writes at a time. A caller that finds nobody writing
    becomes the writer and writes every queued row at once; the others queue
    and sleep until a writer has written their row (``done``) or hands them
    the writer's role because rows queued up during its write. So the rows
    that arrive during one commit share the next: the group grows with the
    load, and a lone request never waits for anyone.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[_Accept] = []
        self._writing = False

    def accept(self, item: _Accept) -> None:
        with self._lock:
            self._queue.append(item)
            lead = not self._writing
            self._writing = True
        if not lead:
            item.wakeup.wait()
        if not item.done:  # we are the writer (first in, or handed the role)
            with self._lock:
                group, self._queue = self._queue, []
            _rows_insert(group)
            with self._lock:
                successor = self._queue[0] if self._queue else None
                self._writing = successor is not None
            for other in group:
                other.wakeup.set()
            if successor is not None:
                successor.wakeup.set()
        if item.error is not None:
            # Each waiting thread raises its own copy (one exception object raised in
            # several threads at once would share a traceback).
            raise copy.copy(item.error)


def _rows_insert(group: list[_Accept]) -> None:
    """One multi-row INSERT (autocommit: committed on return); marks every item done or failed."""
    params: list = []
    for item in group:
        params += (item.events_json, item.event_count, item.received_at)
    try:
        with connection.cursor() as cursor:
            cursor.execute(_INSERT_BATCHES + ",".join([_ROW] * len(group)), params)
    except Exception as exc:  # noqa: BLE001 - every waiter must learn the outcome, or it would wait for ever
        # Not only DatabaseError: a closed connection raises InterfaceError, and an error that
        # escaped here would leave the writer's role taken and every later accept waiting.
        for item in group:
            item.error = exc
    for item in group:
        item.done = True


_group_commit = _GroupCommit()


def batch_accept(*, events_json: str, event_count: int, received_at: datetime) -> None:
    """Store ``events_json`` (a JSON array of normalised events) as ONE inbox row.

    Returns once the row is committed. Raises the database error when
    PostgreSQL cannot take the batch; the ingest caller answers 503 (nothing
    is accepted that cannot be stored). Inside an outer transaction (replay,
    tests, scripts) the row is written on that transaction's connection.

    Waking the classifiers is the caller's next step, not a callback from
    here: ingest coalesces wake-ups with its counters (``ingest.notifier``),
    everyone else calls ``alerts.wakeup.wake_on_commit(WakeKind.CLASSIFY)``.
    """
    item = _Accept(events_json, event_count, received_at)
    if connection.in_atomic_block:
        _rows_insert([item])
        if item.error is not None:
            raise item.error
        return
    _group_commit.accept(item)
