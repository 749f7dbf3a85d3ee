"""After commit: wake the classifiers and count the events, coalesced per process.

An isolated request wakes the classifiers itself, right after its commit and
before its 202, in one Redis pipeline (``alerts.wakeup.wake`` with the EPS
counters riding along). Under load, requests arriving within ``_GATHER_SECONDS``
of the last round trip only add their count and leave the round trip to one
background thread per process, which sends a single pipeline for all of
them: Redis then costs the front door almost nothing per request.

Nothing here is needed for durability: a lost wake-up is re-sent by the
remediation sweeper, a lost count is a statistic. While Redis is failing,
requests do not touch it at all; the background thread retries once a second.
"""

from __future__ import annotations

import os
import threading
import time

from alerts.wakeup import WakeKind, wake
from ingest.counters import eps_record

# At most about one pipeline per process per this interval, whatever the request rate.
_GATHER_SECONDS = 0.01
# After Redis failed: one warning and one reconnection attempt per second, not one per request.
_RETRY_PAUSE_SECONDS = 1.0


class _Notifier:
    def __init__(self) -> None:
        self._lock = threading.Lock()  # guards _pending
        self._flush_lock = threading.Lock()  # one round trip at a time
        self._pending: dict[int, int] = {}  # epoch second -> accepted events
        self._signal = threading.Event()
        self._last_flush = float("-inf")
        self._redis_failing = False
        self._owner_pid: int | None = None

    def accepted(self, events: int, second: int) -> None:
        with self._lock:
            self._pending[second] = self._pending.get(second, 0) + events
            if self._owner_pid != os.getpid():
                # First use in this process (threads do not survive the server's fork).
                self._owner_pid = os.getpid()
                threading.Thread(target=self._run, name="mutt-ingest-notifier", daemon=True).start()
        quiet = not self._redis_failing and time.monotonic() - self._last_flush >= _GATHER_SECONDS
        if quiet and self._flush_lock.acquire(blocking=False):
            try:
                self._flush()
            finally:
                self._flush_lock.release()
        else:
            self._signal.set()

    def _run(self) -> None:
        while True:
            self._signal.wait()
            self._signal.clear()
            time.sleep(_RETRY_PAUSE_SECONDS if self._redis_failing else _GATHER_SECONDS)  # let the burst gather
            with self._flush_lock:
                self._flush()
            if self._redis_failing:
                self._signal.set()  # keep retrying until Redis answers

    def _flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        self._last_flush = time.monotonic()
        if pending:
            self._redis_failing = not wake(WakeKind.CLASSIFY, pipeline_extra=lambda pipe: _count(pipe, pending))


def _count(pipe, pending: dict[int, int]) -> None:
    for second, events in pending.items():
        eps_record(pipe, events, second)


_notifier = _Notifier()


def notifier_reset() -> None:
    """A fresh notifier for this process (tests: no pending counts, no remembered Redis failure)."""
    global _notifier
    _notifier = _Notifier()


def classifiers_wake_and_count(*, events: int, at: float) -> None:
    """``events`` were committed at epoch time ``at``: wake the classifiers and count them."""
    _notifier.accepted(events, int(at))
