"""Committing a claim: decide every event, COPY the lines, move them, all in ONE transaction.

Cost per event is the budget (docs/architecture.md, "Classify"): the events
are decided by the compiled RuleSet, staged as text lines
(``alerts.services.staging``), written to a temporary staging table with one
COPY, and moved into the audit log and the outbox by ONE statement that also
returns what this delivery inserted (so statistics and flood counters count
each event once, however often its batch is delivered). Poison events and
batches that kill workers become dead letters; unhandled-event floods become
meta-alerts, in the same transaction.
"""

from __future__ import annotations

import io
import logging
import time
import uuid
from collections import Counter
from dataclasses import dataclass, fields
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from redis.exceptions import RedisError

from alerts import metrics
from alerts.choices import BatchStatus, DeadLetterStage
from alerts.dynamic_config import runtime
from alerts.flood import Flood, unhandled_count
from alerts.maintenance import window_for, windows_active
from alerts.models import DeadLetter, IngestBatch
from alerts.pipeline_stats import classified_record
from alerts.rule_cache import ruleset_current
from alerts.rule_stats import rule_hits_record
from alerts.services.claiming import ClaimedBatch
from alerts.services.lifecycle import outcomes_resolve
from alerts.services.staging import (
    NULL,
    STAGE_COLUMNS,
    Lifecycle,
    MetaDecision,
    StageTimes,
    meta_alert_event,
    stage_line,
)
from alerts.wakeup import WakeKind, wake_on_commit

log = logging.getLogger(__name__)


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


# The staging table lives as long as the connection; its rows only for the transaction.
_STAGE_CREATE = """
CREATE TEMP TABLE IF NOT EXISTS classify_stage (
    received_at timestamptz, event_timestamp timestamptz, processed_at timestamptz, hostname text,
    message text, source text, syslog_severity smallint, trap_oid text, rule_id integer,
    team_assignment text, handling text, is_dev boolean, correlation_id uuid, batch_id bigint,
    raw_payload jsonb, forward_status text, trap_name text, signature text, clears uuid, folded_into uuid,
    suppressed_by integer, alert_payload jsonb
) ON COMMIT DELETE ROWS
"""
_COPY = f"COPY classify_stage ({STAGE_COLUMNS}) FROM STDIN"
_AUDIT_COLUMNS = STAGE_COLUMNS.removesuffix(", alert_payload")
# One statement: audit rows (idempotent by (correlation_id, received_at)), an
# outbox row only for audit rows inserted now (a redelivered batch whose alerts
# were already delivered must not send them again), and what was inserted.
_MOVE_TEMPLATE = """
WITH ins AS (
    INSERT INTO event_audit_log ({audit_columns})
    SELECT {audit_columns} FROM classify_stage
    {on_conflict}
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
_MOVE_SQL = _MOVE_TEMPLATE.format(
    audit_columns=_AUDIT_COLUMNS, on_conflict="ON CONFLICT (correlation_id, received_at) DO NOTHING"
)
# A claim of first deliveries only (no audit row of theirs can exist yet, short of
# ingest storing a request twice) inserts without the conflict pre-check, which
# costs a second descent of the unique index per event; the unique index still
# refuses a duplicate, and then the statement is rolled back to its savepoint and
# run again as _MOVE_SQL. So exactly-once holds either way.
_MOVE_FIRST_SQL = "SAVEPOINT classify_move;" + _MOVE_TEMPLATE.format(audit_columns=_AUDIT_COLUMNS, on_conflict="")

_staged_connection = None  # the DB connection whose session already has classify_stage


def stage_forget() -> None:
    """Forget which connection has the staging table (tests that replace connections)."""
    global _staged_connection
    _staged_connection = None


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


def _copy_and_move(
    cursor, lines: list[str], done_ids: list[int], *, first_delivery: bool = False
) -> list[tuple[str, str | None, int]]:
    cursor.copy_expert(_COPY, io.StringIO("\n".join(lines) + "\n"))
    if first_delivery:
        try:
            cursor.execute(_MOVE_FIRST_SQL, {"done": done_ids})
            return cursor.fetchall()
        except IntegrityError:  # an audit row exists already (a request stored twice)
            cursor.execute("ROLLBACK TO SAVEPOINT classify_move")
    cursor.execute(_MOVE_SQL, {"done": done_ids})
    return cursor.fetchall()


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


def _dead_letter_event(batch: ClaimedBatch, event: object, exc: Exception) -> DeadLetter:
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
    decision = MetaDecision(settings.UNHANDLED_META_HANDLING, settings.UNHANDLED_META_TEAM)
    lines = []
    for flood in floods:
        window_start = datetime.fromtimestamp(flood.window_start, tz=now.tzinfo).isoformat()
        event = meta_alert_event(
            correlation_id=flood.correlation_id,
            hostname=flood.hostname,
            count=flood.count,
            window_seconds=runtime("unhandled_event_window"),
            window_start=window_start,
            now=now.isoformat(),
        )
        times = StageTimes(processed_at=now.isoformat(), received_at=window_start, batch_id=NULL)
        lines.append(stage_line(event, decision, times, forward=forward))
    cursor.execute("DELETE FROM classify_stage")  # the claim's own lines were moved already
    counts = {kind: count for kind, _key, count in _copy_and_move(cursor, lines, [])}
    return counts.get("inserted", 0), counts.get("outboxed", 0)


def batches_process(*, batches: list[ClaimedBatch]) -> ClassifyResult:
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
    pending: list = []  # (batch, times, event, decision, forward): forwarded events and clears, staged after
    decide = ruleset.decide
    windows = windows_active(ruleset.windows, now) if ruleset.windows else []  # once per claim

    with transaction.atomic():
        for batch in batches:
            if batch.attempts > settings.CLASSIFY_MAX_DELIVERIES:
                # Delivered that often without finishing: it kills workers.
                _dead_letter_batch(batch, f"batch not finished after {batch.attempts - 1} deliveries")
                result.dead_batches += 1
                continue
            live.append(batch)
            if log.isEnabledFor(logging.DEBUG):  # a batch's ids, so one grep by correlation id finds it
                log.debug("classify batch %s", batch.id, extra={"batch_id": batch.id, "correlation_ids": [e.get("correlation_id") for e in batch.events]})  # fmt: skip
            times = StageTimes(processed_at=now_text, received_at=batch.received_at.isoformat(), batch_id=str(batch.id))
            for event in batch.events:
                try:
                    decision = decide(event)
                    forward = decision.handling in forward_handlings
                    suppressed = None
                    if forward and windows and not decision.is_clear:  # clears pass through windows
                        suppressed = window_for(windows, event["hostname"].lower(), decision.team, decision.rule_id)
                    if suppressed is None and (forward or decision.is_clear):  # decided for the claim at once
                        pending.append((batch, times, event, decision, forward))
                        continue
                    outcome = None if suppressed is None else Lifecycle(False, suppressed_by=suppressed)
                    lines.append(stage_line(event, decision, times, forward=False, lifecycle=outcome))
                    handlings[decision.handling] += 1
                except Exception as exc:  # one poison event must not take its batch down
                    dead_events.append(_dead_letter_event(batch, event, exc))
            result.events += len(batch.events)

        counts: dict[str, int] = {}
        unmatched: dict[str, int] = {}
        hits: dict[int, int] = {}
        write_started = time.perf_counter()  # mutt_alerter_db_write_latency_seconds
        with connection.cursor() as cursor:
            done_ids = [b.id for b in live]
            if pending:
                _stage_pending(cursor, pending, lines, handlings, dead_events, now)
            if lines:
                _stage_ensure(cursor)
                first = all(b.attempts == 1 for b in live)
                for kind, key, count in _copy_and_move(cursor, lines, done_ids, first_delivery=first):  # marks done
                    if kind == "rule":
                        hits[int(key)] = count
                    elif kind == "unmatched":
                        unmatched[key] = count
                    else:
                        counts[kind] = count
                done_ids = []
            floods = _unhandled_floods(unmatched)
            if floods:
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
            wake_on_commit(WakeKind.FORWARD)
        transaction.on_commit(lambda: _record_after_commit(result, handlings, hits, unmatched, started))
    return result


def _stage_pending(cursor, pending: list, lines: list[str], handlings: Counter, dead_events: list, now) -> None:
    """Stage the forwarded events and clears with their lifecycle outcome (clear pairing, folding)."""
    outcomes = outcomes_resolve(
        cursor, [(e, d, f) for _b, _t, e, d, f in pending], now=now, fold_window=runtime("fold_window_seconds")
    )
    for (batch, times, event, decision, forward), outcome in zip(pending, outcomes, strict=True):
        try:
            lines.append(stage_line(event, decision, times, forward=forward, lifecycle=outcome))
            handlings[decision.handling] += 1
        except Exception as exc:  # one poison event must not take its batch down
            dead_events.append(_dead_letter_event(batch, event, exc))


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
        classified_record(sum(handlings.values()), unmatched)  # the dashboard's statistics
    except RedisError as exc:
        metrics.REDIS_ERRORS.labels(operation="rule_hits").inc()
        log.warning("rule statistics not updated (%s)", type(exc).__name__)


def _uuid_or_none(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None
