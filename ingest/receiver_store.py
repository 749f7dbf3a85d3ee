"""Group commit for the native receivers: messages in, one inbox row per flush.

Receivers hand encoded events (``ingest.parsing.encode_event``) to one
``Committer`` per process. It writes them, every ``flush_seconds`` or as soon
as ``flush_max`` are waiting, as ONE inbox row through the HTTP path's
``ingest.service.batch_store`` (backlog check, INSERT, stale-connection
retry), then wakes the classifiers (``ingest.notifier``), exactly as a 202
from HTTP ingest does.

Storage before acknowledgement:

- ``submit`` (TCP, TLS, SNMP informs) returns only once the events are
  committed. While PostgreSQL is away or the backlog is full the flush is
  retried (never dropped), so the caller waits, and a TCP reader that waits
  reads nothing more: the sender's own buffers fill up (back pressure).
- ``offer`` (UDP, SNMP traps) never waits: it refuses when ``max_pending``
  messages are already waiting, and the caller counts the drop.

The database work runs on one thread of its own (Django connections are per
thread); the event loop never blocks on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ingest.receiver_metrics import DROPPED, FLUSH, FLUSH_SIZE, PENDING, STORE_FAILURES

log = logging.getLogger(__name__)

STORED = "stored"
BACKLOG_FULL = "backlog_full"
UNAVAILABLE = "storage_unavailable"
_RETRY_FIRST = 0.2
_RETRY_MAX = 2.0
# After close(): how long unstorable messages are retried before the process gives up on them.
SHUTDOWN_GRACE_SECONDS = 20.0


@dataclass
class _Item:
    events: list[bytes]
    received_at: datetime
    done: asyncio.Future | None = None
    at: float = field(default_factory=time.monotonic)


def database_store(body: bytes, count: int, received_at: datetime) -> str:
    """One inbox row through the HTTP path's store; runs on the committer's thread."""
    from django.db import Error as DbApiError  # DatabaseError and InterfaceError (a closed connection)

    from ingest.notifier import classifiers_wake_and_count
    from ingest.service import batch_store, connection_drop

    try:
        full = batch_store(body, count, received_at)
    except DbApiError as exc:
        log.warning(
            "receiver: %d messages not stored yet (%s: %s); retrying", count, type(exc).__name__, str(exc)[:200]
        )
        connection_drop()
        return UNAVAILABLE
    if full:
        return BACKLOG_FULL
    classifiers_wake_and_count(events=count, at=received_at.timestamp())
    return STORED


class Committer:
    def __init__(
        self,
        store: Callable[[bytes, int, datetime], str] = database_store,
        *,
        flush_seconds: float = 0.02,
        flush_max: int = 2000,
        max_pending: int = 20_000,
    ):
        self.store = store
        self.flush_seconds = flush_seconds
        self.flush_max = flush_max
        self.max_pending = max_pending
        self.pending = 0
        self.stored_total = 0
        self.last_store_ok = True
        self._queue: deque[_Item] = deque()
        self._wake = asyncio.Event()
        self._space = asyncio.Event()
        self._space.set()
        self._closing = False
        self._closed_at = float("inf")
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mutt-receiver-store")

    def _add(self, item: _Item) -> None:
        self._queue.append(item)
        self.pending += len(item.events)
        PENDING.set(self.pending)
        if self.pending >= self.max_pending:
            self._space.clear()
        self._wake.set()

    def offer(self, event: bytes, received_at: datetime | None = None) -> bool:
        """Queue one event without waiting; False (drop it, count it) when ``max_pending`` are waiting."""
        if self.pending >= self.max_pending or self._closing:
            return False
        self._add(_Item([event], received_at or datetime.now(UTC)))
        return True

    async def submit(self, events: list[bytes], received_at: datetime | None = None) -> None:
        """Queue events and return once they are committed (waits for room first)."""
        if not events:
            return
        while self.pending >= self.max_pending:
            await self._space.wait()
        done = asyncio.get_running_loop().create_future()
        self._add(_Item(events, received_at or datetime.now(UTC), done))
        await asyncio.shield(done)

    async def run(self) -> None:
        """The flush loop; returns once ``close()`` was called and everything queued is stored."""
        loop = asyncio.get_running_loop()
        while True:
            if not self._queue:
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            due = self._queue[0].at + self.flush_seconds
            while self.pending < self.flush_max and not self._closing and (wait := due - time.monotonic()) > 0:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), wait)
                except TimeoutError:
                    break
            group: list[_Item] = []
            count = 0
            while self._queue and (not group or count + len(self._queue[0].events) <= self.flush_max):
                item = self._queue.popleft()
                group.append(item)
                count += len(item.events)
            body = b"[" + b",".join(e for item in group for e in item.events) + b"]"
            if not await self._write(loop, body, count, group[0].received_at):
                DROPPED.labels("all", "shutdown").inc(count)
                log.error("receiver: stopping with storage unavailable: %d messages read were not stored", count)
            self.pending -= count
            self.stored_total += count
            PENDING.set(self.pending)
            if self.pending < self.max_pending:
                self._space.set()
            for item in group:
                if item.done is not None and not item.done.done():
                    item.done.set_result(None)

    async def _write(self, loop, body: bytes, count: int, received_at: datetime) -> bool:
        pause = _RETRY_FIRST
        while True:
            started = time.perf_counter()
            try:
                outcome = await loop.run_in_executor(self._executor, self.store, body, count, received_at)
            except Exception:  # a bug in the store must not lose the batch: log it and retry
                log.exception("receiver: storing %d messages failed; retrying", count)
                outcome = UNAVAILABLE
            if outcome == STORED:
                FLUSH.observe(time.perf_counter() - started)
                FLUSH_SIZE.observe(count)
                if not self.last_store_ok:
                    log.warning("receiver: storing again (%d messages waiting)", self.pending)
                self.last_store_ok = True
                return True
            if self._closing and time.monotonic() > self._closed_at + SHUTDOWN_GRACE_SECONDS:
                return False
            STORE_FAILURES.labels(outcome).inc()
            if self.last_store_ok:
                log.warning("receiver: %s; holding %d messages and retrying (TCP senders wait)", outcome, self.pending)
            self.last_store_ok = False
            await asyncio.sleep(pause)
            pause = min(pause * 2, _RETRY_MAX)

    def close(self) -> None:
        """Stop taking ``offer``s; ``run`` stores what is queued, then returns."""
        self._closing = True
        self._closed_at = time.monotonic()
        self._wake.set()

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True)
