"""Classification: claiming inbox batches, deciding, and committing the effects."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from psycopg2.extras import execute_values

from alerts.choices import BatchStatus, DeadLetterStage, ForwardStatus
from alerts.models import DeadLetter, IngestBatch
from alerts.rule_cache import ruleset_current
from alerts.wakeup import WakeKind, wake, wake_clear

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------
# Classification
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimedBatch:
    id: int
    events: list[dict]
    received_at: datetime
    attempts: int


@dataclass
class ClassifyResult:
    batches: int = 0
    events: int = 0
    inserted: int = 0
    outboxed: int = 0
    dead_events: int = 0
    dead_batches: int = 0
    more: bool = False


_CLAIM_SQL = """
SELECT id, event_count FROM ingest_batches
 WHERE status = 'pending' OR (status = 'processing' AND lease_until < now())
 ORDER BY id
 LIMIT %s
 FOR UPDATE SKIP LOCKED
"""

_MARK_SQL = """
UPDATE ingest_batches
   SET status = 'processing', attempts = attempts + 1, lease_until = now() + make_interval(secs => %s)
 WHERE id = ANY(%s)
RETURNING id, events, received_at, attempts
"""


def batches_claim(max_events: int) -> tuple[list[ClaimedBatch], bool]:
    """Lease pending batches holding up to ``max_events`` events (at least one batch).

    The lease (status, attempts+1, lease_until) is committed before any work,
    so a worker killed mid-batch leaves a delivery count behind; the batch is
    claimable again when the lease expires. Returns (batches, more_waiting).
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, [max(1, max_events)])
        candidates = cursor.fetchall()
        chosen: list[int] = []
        total = 0
        for batch_id, count in candidates:
            if chosen and total + count > max_events:
                break
            chosen.append(batch_id)
            total += count
        if not chosen:
            return [], False
        cursor.execute(_MARK_SQL, [settings.CLASSIFY_LEASE_SECONDS, chosen])
        rows = cursor.fetchall()
    more = len(candidates) > len(chosen) or len(candidates) >= max(1, max_events)
    claimed = [
        ClaimedBatch(id=r[0], events=r[1] if isinstance(r[1], list) else json.loads(r[1]), received_at=r[2], attempts=r[3])
        for r in sorted(rows)
    ]
    return claimed, more


_AUDIT_COLUMNS = (
    "received_at, event_timestamp, processed_at, hostname, message, source, syslog_severity, trap_oid, "
    "rule_id, team_assignment, handling, is_dev, correlation_id, batch_id, raw_payload, forward_status"
)
_AUDIT_INSERT = (
    f"INSERT INTO event_audit_log ({_AUDIT_COLUMNS}) VALUES %s "
    "ON CONFLICT (correlation_id, received_at) DO NOTHING RETURNING id, correlation_id, received_at"
)
_OUTBOX_INSERT = (
    "INSERT INTO alert_outbox (correlation_id, audit_id, audit_received_at, payload, attempts, next_attempt_at, "
    "last_error, created_at) VALUES %s ON CONFLICT (correlation_id) DO NOTHING"
)


def _alert_payload(event: dict, decision, received_at: datetime) -> dict:
    """What the forwarder needs to build the Moogsoft payload (forwarding.payload maps it)."""
    return {
        "correlation_id": event["correlation_id"],
        "hostname": event["hostname"],
        "message": event["message"],
        "syslog_severity": event.get("syslog_severity"),
        "trap_oid": event.get("trap_oid"),
        "source": event.get("source", "syslog"),
        "timestamp": event["timestamp"],
        "received_at": received_at.isoformat(),
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


def batches_process(batches: list[ClaimedBatch]) -> ClassifyResult:
    """Decide every event of the claimed batches and commit the effects in ONE transaction."""
    result = ClassifyResult()
    ruleset = ruleset_current()
    forward_handlings = set(settings.FORWARD_HANDLINGS)
    now = timezone.now()
    audit_rows: list[tuple] = []
    alerts_by_cid: dict[str, dict] = {}
    dead_events: list[DeadLetter] = []
    live: list[ClaimedBatch] = []

    with transaction.atomic():
        for batch in batches:
            if batch.attempts > settings.CLASSIFY_MAX_DELIVERIES:
                # Delivered that often without finishing: it kills workers.
                _dead_letter_batch(batch, f"batch not finished after {batch.attempts - 1} deliveries")
                result.dead_batches += 1
                continue
            live.append(batch)
            for event in batch.events:
                result.events += 1
                try:
                    decision = ruleset.decide(event)
                    forward = decision.handling in forward_handlings
                    audit_rows.append(
                        (
                            batch.received_at,
                            event["timestamp"],
                            now,
                            event["hostname"],
                            event["message"],
                            event.get("source", "syslog"),
                            event.get("syslog_severity"),
                            event.get("trap_oid"),
                            decision.rule_id,
                            decision.team,
                            decision.handling,
                            decision.is_dev,
                            event["correlation_id"],
                            batch.id,
                            json.dumps(event),
                            ForwardStatus.PENDING if forward else ForwardStatus.NONE,
                        )
                    )
                    if forward:
                        alerts_by_cid[event["correlation_id"]] = _alert_payload(event, decision, batch.received_at)
                except Exception as exc:  # one poison event must not take its batch down
                    log.exception("classify: event failed in batch %s", batch.id)
                    dead_events.append(
                        DeadLetter(
                            stage=DeadLetterStage.CLASSIFY,
                            batch_id=batch.id,
                            correlation_id=_uuid_or_none(event.get("correlation_id") if isinstance(event, dict) else None),
                            payload={"event": event, "batch_id": batch.id},
                            last_error=f"{type(exc).__name__}: {exc}"[:2000],
                        )
                    )
        with connection.cursor() as cursor:
            inserted = []
            if audit_rows:
                inserted = execute_values(cursor, _AUDIT_INSERT, audit_rows, page_size=len(audit_rows), fetch=True)
            result.inserted = len(inserted)
            # Only rows inserted now get an outbox row: a redelivered batch whose
            # alerts were already delivered must not send them again.
            outbox_rows = []
            for audit_id, cid, received_at in inserted:
                payload = alerts_by_cid.get(str(cid))
                if payload is not None:
                    outbox_rows.append((cid, audit_id, received_at, json.dumps(payload), 0, now, "", now))
            if outbox_rows:
                execute_values(cursor, _OUTBOX_INSERT, outbox_rows, page_size=len(outbox_rows))
            result.outboxed = len(outbox_rows)
            if live:
                cursor.execute(
                    "UPDATE ingest_batches SET status = 'done', processed_at = now(), lease_until = NULL "
                    "WHERE id = ANY(%s)",
                    [[b.id for b in live]],
                )
        if dead_events:
            DeadLetter.objects.bulk_create(dead_events)
        result.dead_events = len(dead_events)
        result.batches = len(live)
        if outbox_rows:
            transaction.on_commit(lambda: wake(WakeKind.FORWARD))
    return result


def _uuid_or_none(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def batches_classify(time_slice: float | None = None) -> ClassifyResult:
    """Claim and classify pending batches until none is left or the time slice is used.

    Clears the wake flag first (see ``alerts.wakeup``). When more work is
    waiting after a full claim, another worker is woken to share it; when the
    slice ends with work left, the task hands over by waking again.
    """
    slice_seconds = settings.CLASSIFY_TIME_SLICE_SECONDS if time_slice is None else time_slice
    deadline = timezone.now() + timedelta(seconds=slice_seconds)
    total = ClassifyResult()
    wake_clear(WakeKind.CLASSIFY)
    while True:
        batches, more = batches_claim(settings.CLASSIFY_MAX_EVENTS_PER_CLAIM)
        if not batches:
            break
        if more:
            wake(WakeKind.CLASSIFY)  # let an idle worker take the next claim in parallel
        part = batches_process(batches)
        for field in ("batches", "events", "inserted", "outboxed", "dead_events", "dead_batches"):
            setattr(total, field, getattr(total, field) + getattr(part, field))
        if timezone.now() >= deadline:
            total.more = True
            wake(WakeKind.CLASSIFY)
            break
    return total
