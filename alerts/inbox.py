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
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import DatabaseError, connection, transaction
from kombu.exceptions import OperationalError as BrokerError
from redis.client import Pipeline
from redis.exceptions import RedisError

from alerts.wakeup import FLAG_TTL_SECONDS, WakeKind, wake_send
from mutt_project.redis_client import get_redis

log = logging.getLogger(__name__)

RedisExtra = Callable[[Pipeline], None]
OnCommit = Callable[[], object]

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
    error: DatabaseError | None = None
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
    except DatabaseError as exc:
        for item in group:
            item.error = exc
    for item in group:
        item.done = True


_group_commit = _GroupCommit()


def batch_accept(
    events_json: str,
    event_count: int,
    received_at: datetime,
    on_commit: OnCommit | None = None,
) -> None:
    """Store ``events_json`` (a JSON array of normalised events) as ONE inbox row.

    Returns once the row is committed, then calls ``on_commit`` (default: wake
    the classifiers; ingest passes its own, which coalesces wake-ups and
    counters). Raises the database error when PostgreSQL cannot take the
    batch; the caller answers 503 (nothing is accepted that cannot be stored).
    Inside an outer transaction (tests, scripts) the row is written on that
    transaction's connection and ``on_commit`` waits for its commit.
    """
    after_commit = on_commit or classifiers_wake
    item = _Accept(events_json, event_count, received_at)
    if connection.in_atomic_block:
        _rows_insert([item])
        if item.error is not None:
            raise item.error
        transaction.on_commit(after_commit)
        return
    _group_commit.accept(item)
    after_commit()


def classifiers_wake(redis_extra: RedisExtra | None = None) -> bool:
    """SET NX the classify wake flag (plus ``redis_extra``) in one pipeline; send a message if we set it.

    Returns False when Redis or the broker could not be reached (logged, never
    raised): the batch is in PostgreSQL and the remediation sweeper re-wakes
    the classifiers once Redis is back.
    """
    try:
        pipe = get_redis().pipeline(transaction=False)
        pipe.set(WakeKind.CLASSIFY.flag, "1", nx=True, ex=FLAG_TTL_SECONDS)
        if redis_extra is not None:
            redis_extra(pipe)
        if pipe.execute()[0]:
            wake_send(WakeKind.CLASSIFY)
        return True
    except (RedisError, OSError, BrokerError) as exc:
        log.warning("classify wake-up not sent (%s); the sweeper will re-wake", type(exc).__name__)
        return False
