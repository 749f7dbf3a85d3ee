"""Healing and maintenance jobs (called by the Beat tasks and the commands)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

import requests
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from alerts.choices import AuditOperation, BatchStatus, DeadLetterStage, DeadLetterStatus, ForwardStatus
from alerts.dynamic_config import runtime
from alerts.inbox import batch_accept
from alerts.models import AlertOutbox, ConfigAuditLog, DeadLetter, IngestBatch
from alerts.wakeup import WakeKind, wake, wake_send
from forwarding.circuit_breaker import BreakerState, CircuitBreaker, breaker_status
from forwarding.client import ForwardPermanentError, ForwardTransientError
from forwarding.rate_limiter import slot_wait
from forwarding.services import alert_send, audit_status_update
from remediation.metrics import DLQ_DEPTH, REMEDIATION_REPLAYED, counted_health_check

log = logging.getLogger(__name__)


@dataclass
class SweepResult:
    stale_batches: int
    stale_outbox: int


def stale_work_rewake(grace_seconds: int | None = None) -> SweepResult:
    """Re-wake classifiers / forwarders when work stayed due past the grace period.

    A wake-up lost with Redis (flushed, crashed) costs this much latency, never data.
    """
    grace = timedelta(seconds=settings.SWEEP_GRACE_SECONDS if grace_seconds is None else grace_seconds)
    now = timezone.now()
    stale_batches = IngestBatch.objects.filter(
        Q(status=BatchStatus.PENDING, received_at__lt=now - grace)
        | Q(status=BatchStatus.PROCESSING, lease_until__lt=now)
    ).count()
    stale_outbox = AlertOutbox.objects.filter(next_attempt_at__lt=now - grace).count()
    if stale_batches:
        log.warning("sweeper: %d inbox batches waiting past %s; waking classifiers", stale_batches, grace)
        wake_send(WakeKind.CLASSIFY)
    if stale_outbox:
        log.warning("sweeper: %d outbox rows due past %s; waking forwarders", stale_outbox, grace)
        wake_send(WakeKind.FORWARD)
    return SweepResult(stale_batches, stale_outbox)


# ---------------------------------------------------------------------------
# Dead-letter replay
# ---------------------------------------------------------------------------


class ReplayResult(StrEnum):
    REPLAYED = "replayed"
    RETRY = "retry"  # failed again; due again after the backoff
    POISONED = "poisoned"  # failed MAX_DLQ_RETRIES times; stays for an operator
    SKIPPED = "skipped"  # Moogsoft not accepting now (breaker open, no rate slot); nothing counted


def dlq_backoff(attempts: int) -> timedelta:
    """2^n seconds after the n-th failed replay, capped (an hour by default)."""
    return timedelta(seconds=min(2**attempts, settings.DLQ_BACKOFF_MAX_SECONDS))


@counted_health_check  # mutt_remediation_health_checks_total (issue 11)
def moog_healthy() -> bool:
    """Breaker not OPEN and a light GET answered with anything but a 5xx (or no answer)."""
    if breaker_status()["state"] == BreakerState.OPEN:
        return False
    url = settings.MOOG_HEALTH_URL or settings.MOOG_WEBHOOK_URL
    try:
        response = requests.get(
            url, timeout=min(settings.MOOG_TIMEOUT, 5.0), verify=settings.MOOG_CA_BUNDLE or settings.MOOG_VERIFY_TLS
        )
    except requests.RequestException as exc:
        log.info("moogsoft health probe failed (%s)", type(exc).__name__)
        return False
    return response.status_code < 500


class _NotNow(Exception):
    """Moogsoft cannot take a request now; try the dead letter again later."""


def _replay_forward(letter: DeadLetter, breaker: CircuitBreaker) -> tuple[bool, str, int | None]:
    """Send a forward dead letter directly, through the shared rate limit and breaker.

    Returns (delivered, error, status); raises _NotNow when nothing was sent.
    """
    if not slot_wait(settings.MOOG_TIMEOUT) or not breaker.acquire().may_send:
        raise _NotNow
    try:
        alert_send(letter.payload, breaker)
    except ForwardPermanentError as exc:
        return False, f"{exc}: {exc.body_excerpt}", exc.status
    except ForwardTransientError as exc:
        return False, str(exc), exc.status
    if letter.audit_id:
        audit_status_update([(letter.audit_id, letter.audit_received_at)], ForwardStatus.SENT)
    return True, "", None


def _replay_classify(letter: DeadLetter) -> None:
    """Put the events back into the inbox as a new batch.

    A classify dead letter means its events were never committed to the audit
    log (a batch is classified in one transaction), so nothing is doubled.
    """
    payload = letter.payload
    events = payload["events"] if "events" in payload else [payload["event"]]
    batch_accept(json.dumps(events), len(events), timezone.now())


def dead_letter_replay(
    letter: DeadLetter, now: datetime | None = None, breaker: CircuitBreaker | None = None
) -> ReplayResult:
    """Replay one dead letter (locked by the caller) and record the outcome on it."""
    now = now or timezone.now()
    if letter.stage == DeadLetterStage.CLASSIFY:
        _replay_classify(letter)
        delivered, error, status = True, "", None
    else:
        try:
            delivered, error, status = _replay_forward(letter, breaker or CircuitBreaker())
        except _NotNow:
            REMEDIATION_REPLAYED.labels(ReplayResult.SKIPPED).inc()
            return ReplayResult.SKIPPED
    if delivered:
        letter.status = DeadLetterStatus.REPLAYED
        letter.next_attempt_at = None
        result = ReplayResult.REPLAYED
    else:
        letter.attempts += 1
        letter.last_error = error[:2000]
        letter.response_status = status or letter.response_status
        if letter.attempts >= runtime("max_dlq_retries"):
            letter.status = DeadLetterStatus.POISONED
            letter.next_attempt_at = None
            result = ReplayResult.POISONED
            log.error("dead letter %s poisoned after %d replays: %s", letter.pk, letter.attempts, error[:200])
        else:
            letter.status = DeadLetterStatus.PENDING
            letter.next_attempt_at = now + dlq_backoff(letter.attempts)
            result = ReplayResult.RETRY
    letter.save(update_fields=["status", "attempts", "last_error", "response_status", "next_attempt_at", "updated_at"])
    REMEDIATION_REPLAYED.labels(result).inc()
    return result


@dataclass
class ReplayRun:
    results: dict = field(default_factory=dict)
    skipped_unhealthy: bool = False
    would_replay: list = field(default_factory=list)  # ids (dry run)


def dead_letters_replay_due(
    now: datetime | None = None, stage: str | None = None, dry_run: bool = False, limit: int = 500
) -> ReplayRun:
    """Replay pending dead letters whose next attempt is due; forward ones only while Moogsoft is healthy."""
    now = now or timezone.now()
    run = ReplayRun()
    due = DeadLetter.objects.filter(status=DeadLetterStatus.PENDING, next_attempt_at__lte=now)
    if stage:
        due = due.filter(stage=stage)
    if dry_run:
        run.would_replay = list(due.order_by("next_attempt_at", "id").values_list("id", flat=True)[:limit])
        return run
    if due.filter(stage=DeadLetterStage.FORWARD).exists() and not moog_healthy():
        run.skipped_unhealthy = True
        due = due.filter(stage=DeadLetterStage.CLASSIFY)
    breaker = CircuitBreaker()
    for letter_id in due.order_by("next_attempt_at", "id").values_list("id", flat=True)[:limit]:
        # One row lock per replay: a concurrent run or an admin action skips it.
        with transaction.atomic():
            letter = (
                DeadLetter.objects.select_for_update(skip_locked=True)
                .filter(pk=letter_id, status=DeadLetterStatus.PENDING)
                .first()
            )
            if letter is None:
                continue
            result = dead_letter_replay(letter, now, breaker)
        run.results[result] = run.results.get(result, 0) + 1
        if result == ReplayResult.SKIPPED:
            break  # Moogsoft is not taking requests: the rest waits for the next run
    dlq_depth_export()
    return run


def dlq_depth_export() -> None:
    for row in DeadLetter.objects.values("stage", "status").annotate(n=Count("id")):
        DLQ_DEPTH.labels(row["stage"], row["status"]).set(row["n"])


def _config_audit(user, letter_or_row, table: str, old: dict, new: dict, reason: str) -> None:
    ConfigAuditLog.objects.create(
        changed_by=getattr(user, "username", str(user)),
        operation=AuditOperation.UPDATE,
        table_name=table,
        record_id=letter_or_row.pk,
        old_values=old,
        new_values=new,
        reason=reason,
        correlation_id=getattr(letter_or_row, "correlation_id", None),
    )


def dead_letters_replay_now(ids: list[int], user) -> dict:
    """Operator's "replay now": replay the chosen letters at once (any backoff or poison ignored)."""
    results: dict = {}
    breaker = CircuitBreaker()
    for letter_id in ids:
        with transaction.atomic():
            letter = (
                DeadLetter.objects.select_for_update(skip_locked=True)
                .filter(pk=letter_id)
                .exclude(status__in=[DeadLetterStatus.REPLAYED, DeadLetterStatus.DISCARDED])
                .first()
            )
            if letter is None:
                continue
            old = {"status": letter.status, "attempts": letter.attempts}
            result = dead_letter_replay(letter, breaker=breaker)
            _config_audit(
                user,
                letter,
                DeadLetter._meta.db_table,
                old,
                {"status": letter.status, "attempts": letter.attempts, "result": result},
                "admin action: replay now",
            )
        results[result] = results.get(result, 0) + 1
    return results


def dead_letters_discard(ids: list[int], user) -> int:
    """Operator's "discard": the letters stay for the record but are never replayed."""
    count = 0
    with transaction.atomic():
        for letter in (
            DeadLetter.objects.select_for_update().filter(pk__in=ids).exclude(status=DeadLetterStatus.DISCARDED)
        ):
            old = {"status": letter.status}
            letter.status = DeadLetterStatus.DISCARDED
            letter.next_attempt_at = None
            letter.save(update_fields=["status", "next_attempt_at", "updated_at"])
            _config_audit(
                user, letter, DeadLetter._meta.db_table, old, {"status": letter.status}, "admin action: discard"
            )
            count += 1
    return count


def outbox_send_now(ids: list[int], user) -> int:
    """Operator's "replay now" on the outbox: due at once, forwarders woken on commit."""
    with transaction.atomic():
        rows = list(AlertOutbox.objects.select_for_update().filter(pk__in=ids))
        for row in rows:
            _config_audit(
                user,
                row,
                AlertOutbox._meta.db_table,
                {"next_attempt_at": row.next_attempt_at.isoformat()},
                {"next_attempt_at": "now"},
                "admin action: replay now",
            )
        AlertOutbox.objects.filter(pk__in=[r.pk for r in rows]).update(next_attempt_at=timezone.now())
        transaction.on_commit(lambda: wake(WakeKind.FORWARD))
    return len(rows)


def outbox_discard(ids: list[int], user) -> int:
    """Operator's "discard" on the outbox: the alert is never sent; its audit row says ``dead``."""
    with transaction.atomic():
        rows = list(AlertOutbox.objects.select_for_update().filter(pk__in=ids))
        for row in rows:
            _config_audit(user, row, AlertOutbox._meta.db_table, {"payload": row.payload}, {}, "admin action: discard")
        audit_status_update([(r.audit_id, r.audit_received_at) for r in rows if r.audit_id], ForwardStatus.DEAD)
        AlertOutbox.objects.filter(pk__in=[r.pk for r in rows]).delete()
    return len(rows)


# ---------------------------------------------------------------------------
# Partitions, retention, pruning
# ---------------------------------------------------------------------------

_PARTITION_PREFIX = "event_audit_log_"


def _month_add(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def partitions_list() -> list[str]:
    """Monthly partitions attached to event_audit_log (the DEFAULT partition excluded)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'event_audit_log'::regclass AND c.relname ~ '^event_audit_log_[0-9]{6}$'
             ORDER BY c.relname
            """
        )
        return [r[0] for r in cursor.fetchall()]


def partitions_ensure(now: datetime | None = None, months_ahead: int | None = None) -> list[str]:
    """Create the current month's partition and ``months_ahead`` more; return the names created.

    ``create_monthly_partition`` (migration 0002) is idempotent and moves rows
    of that month out of the DEFAULT partition into the new one.
    """
    now = now or timezone.now()
    ahead = settings.PARTITION_MONTHS_AHEAD if months_ahead is None else months_ahead
    first = date(now.year, now.month, 1)
    existing = set(partitions_list())
    created = []
    with connection.cursor() as cursor:
        for n in range(ahead + 1):
            month = _month_add(first, n)
            cursor.execute("SELECT create_monthly_partition(%s)", [month])
            name = cursor.fetchone()[0]
            if name not in existing:
                created.append(name)
    if created:
        log.info("partitions created: %s", ", ".join(created))
    return created


def partitions_expired(now: datetime | None = None, retention_days: int | None = None) -> list[str]:
    """Monthly partitions whose every row is older than the retention period."""
    now = now or timezone.now()
    days = settings.EVENT_RETENTION_DAYS if retention_days is None else retention_days
    cutoff = (now - timedelta(days=days)).date()
    expired = []
    for name in partitions_list():
        suffix = name.removeprefix(_PARTITION_PREFIX)
        month_end = _month_add(date(int(suffix[:4]), int(suffix[4:]), 1), 1)
        if month_end <= cutoff:
            expired.append(name)
    return expired


def partitions_drop_old(
    now: datetime | None = None, retention_days: int | None = None, archive: bool = False, dry_run: bool = False
) -> list[str]:
    """Drop (or with ``archive`` detach, keeping the table) the expired partitions; return their names."""
    expired = partitions_expired(now, retention_days)
    if dry_run:
        return expired
    with connection.cursor() as cursor:
        for name in expired:
            if archive:
                cursor.execute(f'ALTER TABLE event_audit_log DETACH PARTITION "{name}"')
            else:
                cursor.execute(f'DROP TABLE "{name}"')
            log.warning("partition %s %s (retention)", name, "detached" if archive else "dropped")
    return expired


def batches_prune(now: datetime | None = None) -> int:
    """Delete done inbox batches older than BATCH_RETENTION_HOURS (their events are in the audit log)."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.BATCH_RETENTION_HOURS)
    deleted, _ = IngestBatch.objects.filter(status=BatchStatus.DONE, processed_at__lt=cutoff).delete()
    return deleted
