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
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from alerts.choices import DeadLetterStage, ForwardStatus
from alerts.dynamic_config import runtime
from alerts.models import AlertOutbox, DeadLetter
from alerts.pipeline_stats import forwarded_record
from alerts.wakeup import WakeKind, wake, wake_clear, wake_later
from forwarding.circuit_breaker import CircuitBreaker
from forwarding.client import ForwardPermanentError, ForwardTransientError, moog_post
from forwarding.metrics import FORWARD_OUTBOX_DEPTH, MOOG_FORWARD_LATENCY, MOOG_REQUESTS
from forwarding.payload import Alert, moog_payload
from forwarding.rate_limiter import slot_wait

log = logging.getLogger(__name__)

# Flush outcomes at least this often, so a long chunk does not hold sent rows
# in memory (a crash would resend them: harmless, but noisy).
_FLUSH_EVERY_SECONDS = 1.0
_FLUSH_EVERY_ROWS = 50


@dataclass
class ForwardResult:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    more: bool = False


@dataclass
class Claimed:
    """One leased outbox row (a plain record: the row lock was released at commit)."""

    id: int
    correlation_id: str
    audit_id: int | None
    audit_received_at: object
    payload: Alert
    attempts: int
    deliveries: int = 1  # issue 13: leases of this row so far, this one included


def retry_delay(attempts: int, retry_after: float | None = None) -> float:
    """Exponential backoff with full jitter, capped; Retry-After wins when longer."""
    base = settings.MOOG_RETRY_BASE_DELAY * (2 ** max(0, attempts - 1))
    delay = random.uniform(base / 2, base) if base > 0 else 0.0
    delay = min(delay, settings.MOOG_RETRY_MAX_DELAY)
    if retry_after is not None:
        delay = max(delay, min(retry_after, settings.MOOG_RETRY_MAX_DELAY))
    return delay


def lease_seconds() -> float:
    """Longer than a slice plus one request, so a live worker never loses its lease."""
    return settings.FORWARD_TIME_SLICE_SECONDS + settings.MOOG_TIMEOUT + settings.FORWARD_LEASE_MARGIN_SECONDS


def chunk_size() -> int:
    """About two seconds of the global rate: small enough that other workers find rows to share."""
    per_second = runtime("moog_rate_limit") / runtime("moog_rate_period")  # runtime settings (issue 11)
    return max(1, min(settings.FORWARD_CLAIM_SIZE, math.ceil(per_second * 2)))


def outbox_claim(limit: int) -> list[Claimed]:
    """Lease up to ``limit`` due rows (committed at once; relies on the next_attempt_at index)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE alert_outbox o SET next_attempt_at = now() + make_interval(secs => %s),
                   deliveries = o.deliveries + 1
              FROM (SELECT id FROM alert_outbox WHERE next_attempt_at <= now()
                     ORDER BY next_attempt_at, id LIMIT %s FOR UPDATE SKIP LOCKED) due
             WHERE o.id = due.id
            RETURNING o.id, o.correlation_id, o.audit_id, o.audit_received_at, o.payload, o.attempts,
                      o.deliveries
            """,
            [lease_seconds(), limit],
        )
        # Django's psycopg2 backend hands jsonb to raw cursors as text.
        rows = [
            Claimed(r[0], r[1], r[2], r[3], json.loads(r[4]) if isinstance(r[4], str) else r[4], r[5], r[6])
            for r in cursor.fetchall()
        ]
    rows.sort(key=lambda r: r.id)
    return rows


def outbox_release(rows: list[Claimed]) -> None:
    """Give leased rows back (due now) without counting an attempt or a delivery."""
    if rows:
        AlertOutbox.objects.filter(id__in=[r.id for r in rows]).update(
            next_attempt_at=timezone.now(), deliveries=Greatest(F("deliveries") - 1, 0)
        )


def poison_suspect(row: Claimed, pending: deque, outcomes: Outcomes, result: ForwardResult) -> bool:
    """issue 13: a row whose earlier leases ended without an outcome (its worker died) is sent alone.

    The rest of the chunk is released and the outcomes so far are written first,
    so only this row's delivery count grows if it kills the worker again; past
    ``FORWARD_MAX_DELIVERIES`` it becomes a dead letter instead of being sent.
    Returns True when the row was dead-lettered (not to be sent).
    """
    if row.deliveries <= 1:
        return False
    others = [r for r in pending if r is not row]
    outbox_release(others)
    for r in others:
        pending.remove(r)
    outcomes.flush(result)
    if row.deliveries > settings.FORWARD_MAX_DELIVERIES:
        reason = f"outbox row not finished after {row.deliveries - 1} deliveries (its worker died each time)"
        log.error("forward dead letter: %s", reason, extra={"correlation_id": str(row.correlation_id)})
        pending.remove(row)
        outcomes.dead.append((row, reason, None))
        outcomes.flush(result)
        return True
    return False


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


def forward_dead_letter(row: Claimed, error: str, status: int | None) -> DeadLetter:
    """An unsaved forward-stage dead letter; ``attempts`` counts replays, so it starts at 0."""
    return DeadLetter(
        stage=DeadLetterStage.FORWARD,
        correlation_id=row.correlation_id,
        audit_id=row.audit_id,
        audit_received_at=row.audit_received_at,
        payload=row.payload,
        last_error=error[:2000],
        response_status=status or None,  # 0: never sent (unmappable)
        attempts=0,
        next_attempt_at=timezone.now() + timedelta(seconds=1),
    )


@dataclass
class Outcomes:
    """Outcomes of sent rows, written back in one transaction per flush."""

    sent: list[Claimed] = field(default_factory=list)
    retries: list[tuple[Claimed, str, float]] = field(default_factory=list)
    dead: list[tuple[Claimed, str, int | None]] = field(default_factory=list)
    last_flush: float = field(default_factory=time.monotonic)

    def __len__(self) -> int:
        return len(self.sent) + len(self.retries) + len(self.dead)

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
            if self.dead:
                DeadLetter.objects.bulk_create([forward_dead_letter(r, e, s) for r, e, s in self.dead])
                AlertOutbox.objects.filter(id__in=[r.id for r, _, _ in self.dead]).delete()
                audit_status_update(
                    [(r.audit_id, r.audit_received_at) for r, _, _ in self.dead if r.audit_id], ForwardStatus.DEAD
                )
        result.sent += len(self.sent)
        forwarded_record([r.payload for r in self.sent])  # dashboard statistics (issue 11)
        result.retried += len(self.retries)
        result.dead += len(self.dead)
        self.sent.clear()
        self.retries.clear()
        self.dead.clear()
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


def _send_one(row: Claimed, breaker: CircuitBreaker, outcomes: Outcomes) -> None:
    try:
        alert_send(row.payload, breaker)
    except ForwardPermanentError as exc:
        outcomes.dead.append((row, f"{exc}: {exc.body_excerpt}", exc.status))
    except ForwardTransientError as exc:
        attempts = row.attempts + 1
        if attempts > settings.MOOG_MAX_RETRIES:
            outcomes.dead.append((row, f"gave up after {attempts} attempts: {exc}", exc.status))
        else:
            outcomes.retries.append((row, str(exc)[:2000], retry_delay(attempts, exc.retry_after)))
    else:
        outcomes.sent.append(row)


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
    while not slice_used and time.monotonic() < deadline:
        rows = outbox_claim(chunk_size())
        if not rows:
            due_in = _next_due_in()
            # Sleep for a retry due within this slice; a later one (or another
            # worker's lease) is left to the hand-over.
            if due_in is None or due_in > deadline - time.monotonic():
                break
            time.sleep(max(0.0, due_in))
            continue
        if len(rows) == chunk_size():
            wake(WakeKind.FORWARD)  # more may be due: an idle worker joins in
        pending = deque(rows)
        try:
            while pending:
                if poison_suspect(pending[0], pending, outcomes, result):  # issue 13
                    continue
                # Rate slot first, then the breaker: a probe lock is never held
                # while its owner waits for a slot.
                if not slot_wait(deadline - time.monotonic()):
                    slice_used = True  # the next slot comes after the slice: hand over
                    break
                verdict = breaker.acquire()
                if not verdict.may_send:
                    # Open: nothing is sent and no attempt counted; sleep it out.
                    outbox_release(list(pending))
                    pending.clear()
                    time.sleep(max(0.0, min(verdict.wait, deadline - time.monotonic())))
                    break
                _send_one(pending.popleft(), breaker, outcomes)
                if outcomes.due():
                    outcomes.flush(result)
        finally:
            outcomes.flush(result)
            outbox_release(list(pending))
    _hand_over(result)
    return result
