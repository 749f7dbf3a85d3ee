"""Classification: claiming inbox batches, deciding, and committing the effects.

Cost per event is the budget (DESIGN.md "Performance budget"): the events are
read as one JSON text per batch (orjson), decided by the compiled RuleSet,
written to a temporary staging table with one COPY, and moved into the audit
log and the outbox by ONE statement that also returns what this delivery
inserted (so statistics and flood counters count each event once, however
often its batch is delivered).
"""

from __future__ import annotations

import io
import logging
import os
import time
import uuid
from collections import Counter
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from redis.exceptions import RedisError

from alerts import metrics
from alerts.choices import BatchStatus, DeadLetterStage
from alerts.dynamic_config import runtime
from alerts.flood import Flood, unhandled_count
from alerts.models import DeadLetter, IngestBatch
from alerts.pipeline_stats import classified_record
from alerts.rule_cache import ruleset_current
from alerts.rule_stats import rule_hits_record
from alerts.wakeup import WakeKind, wake, wake_clear, wake_hold

log = logging.getLogger(__name__)

# Test hook, read once at start-up: a worker started with this variable exits
# hard when it meets an event whose message equals it, so the integration
# tests can show that a batch which kills its worker ends as a dead letter.
_CRASH_ON_MESSAGE = os.environ.get("MUTT_TEST_CRASH_ON_MESSAGE")


@dataclass(frozen=True)
class ClaimedBatch:
    """An inbox batch leased by this worker."""

    id: int
    events: list[dict]
    received_at: datetime
    attempts: int


@dataclass
class ClassifyResult:
    """What one or more claims did (returned by the task, read by tests and the bench)."""

    batches: int = 0
    events: int = 0
    inserted: int = 0
    outboxed: int = 0
    dead_events: int = 0
    dead_batches: int = 0
    meta_alerts: int = 0
    more: bool = False

    def add(self, other: ClassifyResult) -> None:
        for field in fields(self):
            if field.name != "more":
                setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))


# ---------------------------------------------------------------------------
# Claim
# ---------------------------------------------------------------------------

# One statement, so one round trip and one implicit commit: lock up to
# ``limit`` unfinished batches (SKIP LOCKED: another worker got there first),
# keep the prefix whose events fit ``max_events`` (always at least one batch),
# and lease those. Relies on the partial index ingest_batches_unfinished.
_CLAIM_SQL = """
WITH cand AS (
    SELECT id, event_count FROM ingest_batches
     WHERE status = 'pending' OR (status = 'processing' AND lease_until < now())
     ORDER BY id
     LIMIT %(limit)s
     FOR UPDATE SKIP LOCKED
), chosen AS (
    SELECT id FROM (
        SELECT id, row_number() OVER (ORDER BY id) AS n, sum(event_count) OVER (ORDER BY id) AS events
          FROM cand
    ) running
     WHERE n = 1 OR events <= %(max_events)s
), leased AS (
    UPDATE ingest_batches b
       SET status = 'processing', attempts = attempts + 1, lease_until = now() + make_interval(secs => %(lease)s)
      FROM chosen
     WHERE b.id = chosen.id
    RETURNING b.id, b.events::text, b.received_at, b.attempts
)
SELECT leased.*, (SELECT count(*) FROM cand) FROM leased ORDER BY id
"""


def batches_claim(max_events: int) -> tuple[list[ClaimedBatch], bool]:
    """Lease pending batches holding up to ``max_events`` events (at least one batch).

    The lease (status, attempts+1, lease_until) is committed before any work,
    so a worker killed mid-batch leaves a delivery count behind; the batch is
    claimable again when the lease expires. Returns (batches, more_waiting).
    """
    limit = max(1, max_events)
    with connection.cursor() as cursor:
        if connection.in_atomic_block:
            raise RuntimeError("batches_claim must commit its lease on its own (not inside atomic)")
        cursor.execute(_CLAIM_SQL, {"limit": limit, "max_events": max_events, "lease": settings.CLASSIFY_LEASE_SECONDS})
        rows = cursor.fetchall()
    if not rows:
        return [], False
    candidates = rows[0][4]
    more = candidates > len(rows) or candidates >= limit
    claimed = [ClaimedBatch(id=r[0], events=orjson.loads(r[1]), received_at=r[2], attempts=r[3]) for r in rows]
    return claimed, more


# ---------------------------------------------------------------------------
# Process
# ---------------------------------------------------------------------------

# The staging table lives as long as the connection; its rows only for the transaction.
_STAGE_CREATE = """
CREATE TEMP TABLE IF NOT EXISTS classify_stage (
    received_at timestamptz, event_timestamp timestamptz, processed_at timestamptz, hostname text,
    message text, source text, syslog_severity smallint, trap_oid text, rule_id integer,
    team_assignment text, handling text, is_dev boolean, correlation_id uuid, batch_id bigint,
    raw_payload jsonb, forward_status text, alert_payload jsonb
) ON COMMIT DELETE ROWS
"""
_STAGE_COLUMNS = (
    "received_at, event_timestamp, processed_at, hostname, message, source, syslog_severity, trap_oid, "
    "rule_id, team_assignment, handling, is_dev, correlation_id, batch_id, raw_payload, forward_status"
)
# One statement: audit rows (idempotent by (correlation_id, received_at)), an
# outbox row only for audit rows inserted now (a redelivered batch whose alerts
# were already delivered must not send them again), and what was inserted.
_MOVE_SQL = f"""
WITH ins AS (
    INSERT INTO event_audit_log ({_STAGE_COLUMNS})
    SELECT {_STAGE_COLUMNS} FROM classify_stage
    ON CONFLICT (correlation_id, received_at) DO NOTHING
    RETURNING id, correlation_id, received_at, hostname, rule_id
), out AS (
    INSERT INTO alert_outbox (correlation_id, audit_id, audit_received_at, payload, attempts,
                              next_attempt_at, last_error, created_at)
    SELECT ins.correlation_id, ins.id, ins.received_at, s.alert_payload, 0, now(), '', now()
      FROM ins JOIN classify_stage s USING (correlation_id, received_at)
     WHERE s.alert_payload IS NOT NULL
    ON CONFLICT (correlation_id) DO NOTHING
    RETURNING 1
), done AS (
    UPDATE ingest_batches SET status = 'done', processed_at = now(), lease_until = NULL
     WHERE id = ANY(%(done)s::bigint[])
    RETURNING 1
)
SELECT 'rule', rule_id::text, count(*) FROM ins WHERE rule_id IS NOT NULL GROUP BY rule_id
UNION ALL SELECT 'unmatched', hostname, count(*) FROM ins WHERE rule_id IS NULL GROUP BY hostname
UNION ALL SELECT 'inserted', NULL, count(*) FROM ins
UNION ALL SELECT 'outboxed', NULL, count(*) FROM out
UNION ALL SELECT 'done', NULL, count(*) FROM done
"""

_staged_connection = None  # the DB connection whose session already has classify_stage


def _stage_ensure(cursor) -> None:
    """Create the staging table once per database session, not once per claim (a round trip saved).

    Remembered only after commit: a rolled-back CREATE leaves no table behind.
    Holding the connection object also keeps its identity from being reused.
    """
    global _staged_connection
    raw = connection.connection
    if raw is _staged_connection:
        return
    cursor.execute(_STAGE_CREATE)

    def _remember() -> None:
        global _staged_connection
        _staged_connection = raw

    transaction.on_commit(_remember)


# COPY text format: backslash, tab, newline and carriage return must be escaped.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


class PoisonEvent(ValueError):
    """An event that cannot be classified or stored (dead-lettered alone)."""


def _checked_text(event: dict, key: str) -> str:
    value = event[key]
    if not isinstance(value, str):
        raise PoisonEvent(f"{key} must be text")
    return value


def _stage_line(event: dict, decision, batch_id: str, now_text: str, received_text: str, forward: bool) -> str:
    """One COPY line for the staging table; raises for an event PostgreSQL would refuse."""
    if not isinstance(event, dict):
        raise PoisonEvent("event is not an object")
    datetime.fromisoformat(_checked_text(event, "timestamp"))  # a bad timestamp would fail the whole COPY
    message = _checked_text(event, "message")
    hostname = _checked_text(event, "hostname")
    correlation_id = _checked_text(event, "correlation_id")
    severity = event.get("syslog_severity")
    if severity is not None and (type(severity) is not int or not 0 <= severity <= 7):
        raise PoisonEvent("syslog_severity must be an integer 0-7")
    trap_oid = event.get("trap_oid")
    raw = orjson.dumps(event).decode()
    if forward:
        alert = _copy_text(orjson.dumps(_alert_payload(event, decision, received_text)).decode())
    else:
        alert = "\\N"
    return "\t".join(
        (
            received_text,
            event["timestamp"],
            now_text,
            _copy_text(hostname),
            _copy_text(message),
            _copy_text(str(event.get("source") or "syslog")),
            "\\N" if severity is None else str(severity),
            "\\N" if trap_oid is None else _copy_text(str(trap_oid)),
            "\\N" if decision.rule_id is None else str(decision.rule_id),
            _copy_text(decision.team),
            decision.handling,
            "t" if decision.is_dev else "f",
            correlation_id,
            batch_id,
            _copy_text(raw),
            "pending" if forward else "none",
            alert,
        )
    )


def _alert_payload(event: dict, decision, received_text: str) -> dict:
    """What the forwarder needs to build the Moogsoft payload (forwarding.payload maps it)."""
    return {
        "correlation_id": event["correlation_id"],
        "hostname": event["hostname"],
        "message": event["message"],
        "syslog_severity": event.get("syslog_severity"),
        "trap_oid": event.get("trap_oid"),
        "source": event.get("source", "syslog"),
        "timestamp": event["timestamp"],
        "received_at": received_text,
        "rule_id": decision.rule_id,
        "handling": decision.handling,
        "team": decision.team,
        "is_dev": decision.is_dev,
    }


def _dead_letter_batch(batch: ClaimedBatch, error: str) -> None:
    DeadLetter.objects.create(
        stage=DeadLetterStage.CLASSIFY,
        batch_id=batch.id,
        payload={"batch_id": batch.id, "events": batch.events},
        last_error=error[:2000],
        attempts=batch.attempts,
    )
    IngestBatch.objects.filter(pk=batch.id).update(status=BatchStatus.DEAD, processed_at=timezone.now())
    metrics.DEAD_LETTERS.labels(kind="batch").inc()


def _dead_letter_event(batch: ClaimedBatch, event, exc: Exception) -> DeadLetter:
    log.warning("classify: event dead-lettered in batch %s: %s: %s", batch.id, type(exc).__name__, exc)
    cid = event.get("correlation_id") if isinstance(event, dict) else None
    return DeadLetter(
        stage=DeadLetterStage.CLASSIFY,
        batch_id=batch.id,
        correlation_id=_uuid_or_none(cid),
        payload={"event": event, "batch_id": batch.id},
        last_error=f"{type(exc).__name__}: {exc}"[:2000],
        attempts=batch.attempts,
    )


def _meta_alerts_insert(cursor, floods: list[Flood], now: datetime) -> tuple[int, int]:
    """Audit and outbox one meta-alert per flood; the correlation id is fixed per host and window,
    so the unique keys fold a duplicate if a Redis counter was ever lost and counted twice."""
    forward = settings.UNHANDLED_META_HANDLING in settings.FORWARD_HANDLINGS
    lines = []
    for flood in floods:
        window_start = datetime.fromtimestamp(flood.window_start, tz=now.tzinfo)
        message = (
            f"Unhandled event flood: {flood.hostname} sent {flood.count} events no rule matched "
            f"within {runtime('unhandled_event_window')} s"
        )
        event = {
            "correlation_id": flood.correlation_id,
            "hostname": flood.hostname,
            "message": message,
            "timestamp": now.isoformat(),
            "source": "syslog",
            "syslog_severity": None,
            "trap_oid": None,
            "meta_alert": "unhandled_flood",
            "window_start": window_start.isoformat(),
        }
        decision = _MetaDecision(settings.UNHANDLED_META_HANDLING, settings.UNHANDLED_META_TEAM)
        lines.append(_stage_line(event, decision, "\\N", now.isoformat(), window_start.isoformat(), forward))
    cursor.copy_expert(
        f"COPY classify_stage ({_STAGE_COLUMNS}, alert_payload) FROM STDIN", io.StringIO("\n".join(lines) + "\n")
    )
    cursor.execute(_MOVE_SQL, {"done": []})
    counts = {kind: count for kind, _key, count in cursor.fetchall() if kind in ("inserted", "outboxed")}
    return counts.get("inserted", 0), counts.get("outboxed", 0)


@dataclass(frozen=True)
class _MetaDecision:
    handling: str
    team: str
    rule_id: None = None
    is_dev: bool = False


def batches_process(batches: list[ClaimedBatch]) -> ClassifyResult:
    """Decide every event of the claimed batches and commit the effects in ONE transaction."""
    started = time.perf_counter()
    result = ClassifyResult()
    ruleset = ruleset_current()
    forward_handlings = frozenset(settings.FORWARD_HANDLINGS)
    now = timezone.now()
    now_text = now.isoformat()
    lines: list[str] = []
    handlings: Counter[str] = Counter()
    dead_events: list[DeadLetter] = []
    live: list[ClaimedBatch] = []
    decide = ruleset.decide

    with transaction.atomic():
        for batch in batches:
            if batch.attempts > settings.CLASSIFY_MAX_DELIVERIES:
                # Delivered that often without finishing: it kills workers.
                _dead_letter_batch(batch, f"batch not finished after {batch.attempts - 1} deliveries")
                result.dead_batches += 1
                continue
            live.append(batch)
            if log.isEnabledFor(logging.DEBUG):  # the ids of a batch, for a grep by correlation id (issue 11)
                log.debug("classify batch %s", batch.id, extra={"batch_id": batch.id, "correlation_ids": [e.get("correlation_id") for e in batch.events]})  # fmt: skip
            received_text = batch.received_at.isoformat()
            batch_id = str(batch.id)
            for event in batch.events:
                try:
                    if _CRASH_ON_MESSAGE is not None and event.get("message") == _CRASH_ON_MESSAGE:
                        os._exit(70)
                    decision = decide(event)
                    lines.append(
                        _stage_line(
                            event, decision, batch_id, now_text, received_text, decision.handling in forward_handlings
                        )
                    )
                    handlings[decision.handling] += 1
                except Exception as exc:  # one poison event must not take its batch down
                    dead_events.append(_dead_letter_event(batch, event, exc))
            result.events += len(batch.events)

        counts: dict[str, int] = {}
        unmatched: dict[str, int] = {}
        hits: dict[int, int] = {}
        write_started = time.perf_counter()  # mutt_alerter_db_write_latency_seconds (issue 11)
        with connection.cursor() as cursor:
            done_ids = [b.id for b in live]
            if lines:
                _stage_ensure(cursor)
                cursor.copy_expert(
                    f"COPY classify_stage ({_STAGE_COLUMNS}, alert_payload) FROM STDIN",
                    io.StringIO("\n".join(lines) + "\n"),
                )
                cursor.execute(_MOVE_SQL, {"done": done_ids})  # also marks the batches done
                done_ids = []
                for kind, key, count in cursor.fetchall():
                    if kind == "rule":
                        hits[int(key)] = count
                    elif kind == "unmatched":
                        unmatched[key] = count
                    else:
                        counts[kind] = count
            floods = _unhandled_floods(unmatched)
            if floods:
                cursor.execute("DELETE FROM classify_stage")  # the meta-alerts reuse the table
                result.meta_alerts, meta_outboxed = _meta_alerts_insert(cursor, floods, now)
                counts["outboxed"] = counts.get("outboxed", 0) + meta_outboxed
            if done_ids:  # every event of these batches was dead-lettered
                cursor.execute(
                    "UPDATE ingest_batches SET status = 'done', processed_at = now(), lease_until = NULL "
                    "WHERE id = ANY(%s)",
                    [done_ids],
                )
        metrics.DB_WRITE_LATENCY.observe(time.perf_counter() - write_started)
        if dead_events:
            DeadLetter.objects.bulk_create(dead_events)
        result.inserted = counts.get("inserted", 0)
        result.outboxed = counts.get("outboxed", 0)
        result.dead_events = len(dead_events)
        result.batches = len(live)
        if result.outboxed:
            transaction.on_commit(lambda: wake(WakeKind.FORWARD))
        transaction.on_commit(lambda: _record_after_commit(result, handlings, hits, unmatched, started))
    return result


def _unhandled_floods(unmatched: dict[str, int]) -> list[Flood]:
    """Count this delivery's newly audited unmatched events; a Redis failure costs a meta-alert, not the batch.

    Counted inside the transaction so a meta-alert commits with the events that
    raised it; if that commit then fails, the window's crossing is lost (rare,
    and logged by the failing commit).
    """
    try:
        return unhandled_count(unmatched)
    except RedisError as exc:
        metrics.REDIS_ERRORS.labels(operation="unhandled_count").inc()
        log.warning("unhandled-flood counters not updated (%s)", type(exc).__name__)
        return []


def _record_after_commit(
    result: ClassifyResult, handlings: Counter, hits: dict[int, int], unmatched: dict[str, int], started: float
) -> None:
    for handling, count in handlings.items():
        metrics.EVENTS_PROCESSED.labels(handling=handling).inc(count)
    metrics.UNHANDLED_EVENTS.inc(sum(unmatched.values()))
    metrics.META_ALERTS.inc(result.meta_alerts)
    if result.dead_events:
        metrics.DEAD_LETTERS.labels(kind="event").inc(result.dead_events)
    metrics.PROCESSING_LATENCY.observe(time.perf_counter() - started)
    try:
        rule_hits_record(hits)
        classified_record(sum(handlings.values()), unmatched)  # dashboard statistics (issue 11)
    except RedisError as exc:
        metrics.REDIS_ERRORS.labels(operation="rule_hits").inc()
        log.warning("rule statistics not updated (%s)", type(exc).__name__)


def _uuid_or_none(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def batches_classify(time_slice: float | None = None) -> ClassifyResult:
    """Claim and classify pending batches until none is left or the time slice is used.

    Wake-up protocol (see ``alerts.wakeup``): while this task keeps finding
    work it holds the wake flag, so a steady stream of requests sends no
    Celery messages; it clears the flag *before* the claim that lets it stop,
    so a batch committed after that claim wakes a classifier again. A claim
    that hits the size cap recruits another worker (the backlog is large);
    at the end of the slice the task hands over with a forced wake-up.
    After a claim finds nothing it lingers ``CLASSIFY_LINGER_SECONDS`` (a
    handful of claims) before it lets go, if it has had work.
    """
    slice_seconds = settings.CLASSIFY_TIME_SLICE_SECONDS if time_slice is None else time_slice
    deadline = timezone.now() + timedelta(seconds=slice_seconds)
    total = ClassifyResult()
    wake_hold(WakeKind.CLASSIFY)
    idle_since: float | None = None
    while True:
        batches, more = batches_claim(settings.CLASSIFY_MAX_EVENTS_PER_CLAIM)
        if not batches:
            # In a busy period, look again a few times before stopping: a gap of
            # a few milliseconds between requests must not cost a Celery round
            # trip (a new message, a new task) for the next event.
            now = time.monotonic()
            idle_since = idle_since or now
            if total.batches and now - idle_since < settings.CLASSIFY_LINGER_SECONDS:
                time.sleep(settings.CLASSIFY_LINGER_SECONDS / 10)
                continue
            wake_clear(WakeKind.CLASSIFY)
            batches, more = batches_claim(settings.CLASSIFY_MAX_EVENTS_PER_CLAIM)
            if not batches:
                break
            wake_hold(WakeKind.CLASSIFY)  # work arrived in between: keep looping
        idle_since = None
        if more:
            wake(WakeKind.CLASSIFY, force=True)  # a backlog: let an idle worker take the next claim
        total.add(batches_process(batches))
        if timezone.now() >= deadline:
            total.more = True
            wake(WakeKind.CLASSIFY, force=True)
            break
    return total
