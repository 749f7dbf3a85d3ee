"""Draining the alert outbox to Moogsoft.

A forward task works for one bounded time slice. It *leases* small chunks of
due rows (claimed ``FOR UPDATE SKIP LOCKED`` and pushed ``FORWARD_LEASE``
seconds into the future in one committed statement), so no row lock is held
while it sleeps for rate slots and several workers share one backlog without
ever sending the same row. Rows it did not get to are released (due again) at
the end; a worker that dies loses only its lease, after which the rows are due
again and the sweeper re-wakes the forwarders.

Outcomes are written back in batches: sent rows deleted and their audit rows
marked ``sent``, retries rescheduled, dead letters created, each kind in one
statement per flush.

Under a storm (docs/forwarding.md, "Priority, batches and staleness"): rows are
claimed class by class in the order ``forwarding.priority.priority_classes()``
gives, oldest first within a class; a worker busy with a lower class looks
for newly due higher-class rows twice a second and gives its chunk back when
there are some. With ``MOOG_BATCH_SIZE`` > 1 a request carries several alerts;
a refused batch is split in halves until the refused alerts are isolated.
With ``MOOG_MAX_ALERT_AGE`` set, an alert that waited longer is not sent but
becomes a ``stale`` dead letter.
"""

from __future__ import annotations

import itertools
import logging
import random
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from alerts.choices import DeadLetterStage, ForwardStatus
from alerts.models import AlertOutbox, DeadLetter
from alerts.pipeline_stats import forwarded_record
from alerts.wakeup import WakeKind, wake, wake_clear, wake_later
from forwarding.circuit_breaker import CircuitBreaker
from forwarding.client import ForwardPermanentError, ForwardTransientError, moog_post, moog_post_batch
from forwarding.metrics import FORWARD_OUTBOX_DEPTH, MOOG_BATCH_EVENTS, MOOG_FORWARD_LATENCY, MOOG_REQUESTS
from forwarding.outbox_lease import LeasedAlert, chunk_size, outbox_claim, outbox_higher_due, outbox_release
from forwarding.outbox_stats import delivered_count
from forwarding.payload import Alert, moog_batch_body, moog_payload
from forwarding.poison import poison_suspect
from forwarding.rate_limiter import events_wait, slot_wait

log = logging.getLogger(__name__)

# Flush outcomes at least this often, so a long chunk does not hold sent rows
# in memory (a crash would resend them: harmless, but noisy).
_FLUSH_EVERY_SECONDS = 1.0
_FLUSH_EVERY_ROWS = 50
# A worker sending a lower class looks this often for newly due higher-class rows.
_PREEMPT_CHECK_SECONDS = 0.5


@dataclass
class ForwardResult:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    stale: int = 0
    more: bool = False


def retry_delay(attempts: int, retry_after: float | None = None) -> float:
    """Exponential backoff with full jitter, capped; Retry-After wins when longer."""
    base = settings.MOOG_RETRY_BASE_DELAY * (2 ** max(0, attempts - 1))
    delay = random.uniform(base / 2, base) if base > 0 else 0.0
    delay = min(delay, settings.MOOG_RETRY_MAX_DELAY)
    if retry_after is not None:
        delay = max(delay, min(retry_after, settings.MOOG_RETRY_MAX_DELAY))
    return delay


def audit_status_update(keys: list[tuple], status: str) -> None:
    """Write the forwarding outcome back to the audit rows, one statement per batch."""
    if not keys:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE event_audit_log a SET forward_status = %s,
                   forwarded_at = CASE WHEN %s = 'sent' THEN now() ELSE a.forwarded_at END
              FROM unnest(%s::bigint[], %s::timestamptz[]) AS k(id, received_at)
             WHERE a.id = k.id AND a.received_at = k.received_at
            """,
            [status, status, [k[0] for k in keys], [k[1] for k in keys]],
        )


def forward_dead_letter(row: LeasedAlert, error: str, status: int | None, replay_by_beat: bool = True) -> DeadLetter:
    """An unsaved forward-stage dead letter; ``attempts`` counts replays, so it starts at 0.

    ``replay_by_beat=False`` (stale alerts) leaves ``next_attempt_at`` empty:
    Beat (and ``manage.py replay_dead_letters``, which replays due ones) never replays
    it; an operator may, from the admin (*Replay now*).
    """
    return DeadLetter(
        stage=DeadLetterStage.FORWARD,
        correlation_id=row.correlation_id,
        audit_id=row.audit_id,
        audit_received_at=row.audit_received_at,
        payload=row.payload,
        last_error=error[:2000],
        response_status=status or None,  # 0: never sent (unmappable)
        attempts=0,
        next_attempt_at=timezone.now() + timedelta(seconds=1) if replay_by_beat else None,
    )


STALE_REASON = "stale"


def stale_error(age: float) -> str:
    """The dead letter's error text; it starts with the reason ``stale`` (the admin filters on it)."""
    return f"{STALE_REASON}: waited {age:.0f} s in the outbox (MOOG_MAX_ALERT_AGE {settings.MOOG_MAX_ALERT_AGE:g} s)"


@dataclass
class Outcomes:
    """Outcomes of sent rows, written back in one transaction per flush."""

    sent: list[LeasedAlert] = field(default_factory=list)
    retries: list[tuple[LeasedAlert, str, float]] = field(default_factory=list)
    dead: list[tuple[LeasedAlert, str, int | None]] = field(default_factory=list)
    stale: list[LeasedAlert] = field(default_factory=list)
    last_flush: float = field(default_factory=time.monotonic)

    def __len__(self) -> int:
        return len(self.sent) + len(self.retries) + len(self.dead) + len(self.stale)

    def due(self) -> bool:
        return len(self) >= _FLUSH_EVERY_ROWS or time.monotonic() - self.last_flush >= _FLUSH_EVERY_SECONDS

    def flush(self, result: ForwardResult) -> None:
        if not len(self):
            return
        with transaction.atomic():
            if self.sent:
                AlertOutbox.objects.filter(id__in=[r.id for r in self.sent]).delete()
                audit_status_update(
                    [(r.audit_id, r.audit_received_at) for r in self.sent if r.audit_id], ForwardStatus.SENT
                )
            if self.retries:
                with connection.cursor() as cursor:
                    cursor.execute(
                        """
                        UPDATE alert_outbox o SET attempts = o.attempts + 1, last_error = v.err, deliveries = 0,
                               next_attempt_at = now() + make_interval(secs => v.delay)
                          FROM unnest(%s::bigint[], %s::text[], %s::float8[]) AS v(id, err, delay)
                         WHERE o.id = v.id
                        """,
                        [
                            [r.id for r, _, _ in self.retries],
                            [e for _, e, _ in self.retries],
                            [d for _, _, d in self.retries],
                        ],
                    )
            dead = self.dead + [(r, stale_error(r.age), None) for r in self.stale]
            if dead:
                stale_ids = {r.id for r in self.stale}
                DeadLetter.objects.bulk_create(
                    [forward_dead_letter(r, e, s, replay_by_beat=r.id not in stale_ids) for r, e, s in dead]
                )
                AlertOutbox.objects.filter(id__in=[r.id for r, _, _ in dead]).delete()
                audit_status_update(
                    [(r.audit_id, r.audit_received_at) for r, _, _ in dead if r.audit_id], ForwardStatus.DEAD
                )
        delivered_count(len(self.sent))
        result.sent += len(self.sent)
        forwarded_record([r.payload for r in self.sent])  # dashboard statistics (issue 11)
        result.retried += len(self.retries)
        result.dead += len(self.dead)
        result.stale += len(self.stale)
        self.sent.clear()
        self.retries.clear()
        self.dead.clear()
        self.stale.clear()
        self.last_flush = time.monotonic()


def _status_label(exc: ForwardTransientError) -> str:
    if exc.status:
        return str(exc.status)
    return "timeout" if str(exc) == "timeout" else "error"


def alert_send(alert: Alert, breaker: CircuitBreaker) -> None:
    """POST one alert, count it, and tell the breaker; raises the client's two error kinds.

    An alert that cannot be mapped at all is a ForwardPermanentError (status 0):
    retrying it could never help.
    """
    try:
        payload = moog_payload(alert, settings.MOOG_SEVERITY_MAP, settings.MOOG_DEFAULT_SEVERITY)
    except (KeyError, TypeError, ValueError) as exc:
        raise ForwardPermanentError(f"unmappable alert: {type(exc).__name__}", status=0, body_excerpt=str(exc)) from exc
    started = time.perf_counter()
    try:
        status = moog_post(payload)
    except ForwardPermanentError as exc:
        MOOG_REQUESTS.labels("fail", str(exc.status)).inc()
        breaker.record_success()  # Moogsoft answered: it is up, the alert is the problem
        raise
    except ForwardTransientError as exc:
        MOOG_REQUESTS.labels("retry", _status_label(exc)).inc()
        breaker.record_failure()
        raise
    finally:
        MOOG_FORWARD_LATENCY.observe(time.perf_counter() - started)
    MOOG_REQUESTS.labels("success", str(status)).inc()
    breaker.record_success()


def _transient_outcome(row: LeasedAlert, exc: ForwardTransientError, outcomes: Outcomes) -> None:
    attempts = row.attempts + 1
    if attempts > settings.MOOG_MAX_RETRIES:
        outcomes.dead.append((row, f"gave up after {attempts} attempts: {exc}", exc.status))
    else:
        outcomes.retries.append((row, str(exc)[:2000], retry_delay(attempts, exc.retry_after)))


def _send_one(row: LeasedAlert, breaker: CircuitBreaker, outcomes: Outcomes) -> None:
    try:
        alert_send(row.payload, breaker)
    except ForwardPermanentError as exc:
        outcomes.dead.append((row, f"{exc}: {exc.body_excerpt}", exc.status))
    except ForwardTransientError as exc:
        _transient_outcome(row, exc, outcomes)
    else:
        outcomes.sent.append(row)


def rows_map(rows: list[LeasedAlert], outcomes: Outcomes) -> list[LeasedAlert]:
    """Map each row's Moogsoft event once (batch mode); an unmappable alert is a dead letter, unsent."""
    mapped = []
    for row in rows:
        try:
            row.moog = moog_payload(row.payload, settings.MOOG_SEVERITY_MAP, settings.MOOG_DEFAULT_SEVERITY)
        except (KeyError, TypeError, ValueError) as exc:
            outcomes.dead.append((row, f"unmappable alert: {type(exc).__name__}: {exc}", 0))
        else:
            mapped.append(row)
    return mapped


def _send_batch(
    rows: list[LeasedAlert], body: bytes, breaker: CircuitBreaker, outcomes: Outcomes, splits: deque
) -> None:
    """One request for ``rows`` (``body``: their encoded batch). 2xx: all sent. 4xx: refused somewhere
    inside, so the halves go to the front of ``splits`` (each its own request) until a refused alert
    is alone and becomes a dead letter. 5xx, 408, 429, timeout: every row retried with the usual backoff."""
    started = time.perf_counter()
    try:
        status = moog_post_batch(body)
    except ForwardPermanentError as exc:
        MOOG_REQUESTS.labels("fail", str(exc.status)).inc()
        breaker.record_success()  # Moogsoft answered: it is up, an alert is the problem
        if len(rows) == 1:
            outcomes.dead.append((rows[0], f"{exc}: {exc.body_excerpt}", exc.status))
        else:
            half = len(rows) // 2
            splits.appendleft(rows[half:])
            splits.appendleft(rows[:half])
        return
    except ForwardTransientError as exc:
        MOOG_REQUESTS.labels("retry", _status_label(exc)).inc()
        breaker.record_failure()
        for row in rows:
            _transient_outcome(row, exc, outcomes)
        return
    finally:
        MOOG_FORWARD_LATENCY.observe(time.perf_counter() - started)
    MOOG_REQUESTS.labels("success", str(status)).inc()
    MOOG_BATCH_EVENTS.observe(len(rows))
    breaker.record_success()
    outcomes.sent.extend(rows)


def _next_due_in() -> float | None:
    """Seconds until the earliest outbox row is due (negative when overdue), None when empty."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXTRACT(EPOCH FROM min(next_attempt_at) - now()) FROM alert_outbox")
        value = cursor.fetchone()[0]
    return None if value is None else float(value)


def _hand_over(result: ForwardResult) -> None:
    due_in = _next_due_in()
    if due_in is None:
        FORWARD_OUTBOX_DEPTH.set(0)
        return
    FORWARD_OUTBOX_DEPTH.set(AlertOutbox.objects.count())
    if due_in <= 0:
        result.more = True
        wake(WakeKind.FORWARD)
    else:
        wake_later(WakeKind.FORWARD, delay=due_in)  # rows in backoff beyond this slice


def outbox_forward(time_slice: float | None = None) -> ForwardResult:
    """Send due outbox rows, paced to the shared rate limit, until none is due or the slice is used."""
    slice_seconds = settings.FORWARD_TIME_SLICE_SECONDS if time_slice is None else time_slice
    deadline = time.monotonic() + slice_seconds
    result = ForwardResult()
    outcomes = Outcomes()
    breaker = CircuitBreaker()
    # Cleared before the claim: work committed after it sets the flag again.
    wake_clear(WakeKind.FORWARD)
    slice_used = False
    batch_size = settings.MOOG_BATCH_SIZE
    max_age = settings.MOOG_MAX_ALERT_AGE
    while not slice_used and time.monotonic() < deadline:
        size = chunk_size()
        rows = outbox_claim(size)
        if not rows:
            due_in = _next_due_in()
            # Sleep for a retry due within this slice; a later one (or another
            # worker's lease) is left to the hand-over.
            if due_in is None or due_in > deadline - time.monotonic():
                break
            time.sleep(max(0.0, due_in))
            continue
        if len(rows) == size:
            wake(WakeKind.FORWARD)  # more may be due: an idle worker joins in
        if max_age > 0:
            outcomes.stale.extend(r for r in rows if r.age > max_age)
            rows = [r for r in rows if r.age <= max_age]
        if batch_size > 1:
            rows = rows_map(rows, outcomes)
        checked_at = time.monotonic()
        pending = deque(rows)
        splits: deque[list[LeasedAlert]] = deque()  # halves of a refused batch, sent before the rest
        try:
            while pending or splits:
                if not splits and poison_suspect(pending[0], pending, outcomes, result):  # issue 13
                    continue
                # Sending a class after the first: look for newly due higher-class
                # rows now and then, and give the chunk back for them.
                rank = splits[0][0].rank if splits else pending[0].rank
                if rank > 0 and time.monotonic() - checked_at >= _PREEMPT_CHECK_SECONDS:
                    checked_at = time.monotonic()
                    if outbox_higher_due(rank):
                        break  # the finally gives the chunk back; the next claim takes the higher class
                unit = len(splits[0]) if splits else min(batch_size, len(pending))
                if batch_size > 1:
                    unit_rows = splits[0] if splits else list(itertools.islice(pending, unit))
                    body = moog_batch_body([r.moog for r in unit_rows])  # before the slot: sent right after it
                # Rate slot first, then the breaker: a probe lock is never held
                # while its owner waits for a slot.
                permit = (
                    slot_wait(deadline - time.monotonic()) if events_wait(unit, deadline - time.monotonic()) else None
                )
                if permit is None:
                    slice_used = True  # the next slot comes after the slice: hand over
                    break
                verdict = breaker.acquire()
                if not verdict.may_send:
                    permit.finish(sent=False)
                    # Open: nothing is sent and no attempt counted; sleep it out
                    # (the finally gives the rows back first).
                    outbox_release(list(pending) + [r for part in splits for r in part])
                    pending.clear()
                    splits.clear()
                    time.sleep(max(0.0, min(verdict.wait, deadline - time.monotonic())))
                    break
                try:
                    if batch_size == 1 and not splits:
                        _send_one(pending.popleft(), breaker, outcomes)
                    else:
                        if splits:
                            splits.popleft()
                        else:
                            for _ in range(unit):
                                pending.popleft()
                        _send_batch(unit_rows, body, breaker, outcomes, splits)
                finally:
                    permit.finish()  # its answer is back: its place in the window now counts from here
                if outcomes.due():
                    outcomes.flush(result)
        finally:
            outcomes.flush(result)
            outbox_release(list(pending) + [r for part in splits for r in part])
    _hand_over(result)
    return result
