"""Beat tasks on the maintenance queue (thin).

Queues come from ``mutt_project.queues.TASK_ROUTES`` (Celery 5.7 deprecates the
``queue`` task attribute). Each periodic task first takes its Beat lock (``remediation.beat_lock``), so
the duplicate message of a second Beat started by mistake does nothing.
"""

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError, InterfaceError

from mutt_project.queues import TaskName
from remediation.beat_lock import beat_lock_take
from remediation.dead_letters import dead_letters_replay_due
from remediation.heartbeat import queue_heartbeat_record
from remediation.partitions import batches_prune, partitions_ensure
from remediation.retention import config_audit_prune, partitions_archive_and_drop
from remediation.sweeper import stale_work_rewake

_DB_RETRY = {
    "autoretry_for": (DatabaseError, InterfaceError),
    "retry_backoff": 5,
    "retry_backoff_max": 30,
    "max_retries": 3,
    # issue 13: docs/reliability.md, "Bounds"
    "soft_time_limit": settings.MAINTENANCE_TASK_SOFT_TIME_LIMIT,
    "time_limit": settings.MAINTENANCE_TASK_SOFT_TIME_LIMIT + settings.TASK_HARD_LIMIT_GRACE,
}
_SKIPPED = {"skipped": "another run holds the beat lock"}


@shared_task(name=TaskName.SWEEP_STALE.value, **_DB_RETRY)
def sweep_stale(grace_seconds: int | None = None) -> dict:
    """Re-wake classifiers and forwarders for work that stayed due past the grace period."""
    if not beat_lock_take(TaskName.SWEEP_STALE, 50):
        return _SKIPPED
    result = stale_work_rewake(grace_seconds=grace_seconds)
    return {"stale_batches": result.stale_batches, "stale_outbox": result.stale_outbox}


@shared_task(name=TaskName.REPLAY_DEAD_LETTERS.value, **_DB_RETRY)
def replay_dead_letters() -> dict:
    """Replay due dead letters (backoff 2^n s, Moogsoft health gate, poisoned after MAX_DLQ_RETRIES)."""
    if not beat_lock_take(TaskName.REPLAY_DEAD_LETTERS, 50):
        return _SKIPPED
    run = dead_letters_replay_due()
    return {"results": {str(k): v for k, v in run.results.items()}, "moog_unhealthy": run.skipped_unhealthy}


@shared_task(name=TaskName.ENSURE_PARTITIONS.value, **_DB_RETRY)
def ensure_partitions() -> dict:
    """Create the audit-log partitions for this month and PARTITION_MONTHS_AHEAD more."""
    if not beat_lock_take(TaskName.ENSURE_PARTITIONS, 600):
        return _SKIPPED
    return {"created": partitions_ensure()}


# Archiving a month of millions of rows takes minutes: its own time limit, and a Beat lock as long.
_RETENTION = _DB_RETRY | {
    "soft_time_limit": settings.RETENTION_TASK_SOFT_TIME_LIMIT,
    "time_limit": settings.RETENTION_TASK_SOFT_TIME_LIMIT + settings.TASK_HARD_LIMIT_GRACE,
}


@shared_task(name=TaskName.ENFORCE_RETENTION.value, **_RETENTION)
def enforce_retention() -> dict:
    """Archive, verify, then drop audit-log partitions past EVENT_RETENTION_DAYS and config audit rows past
    AUDIT_RETENTION_DAYS; whatever fails to archive stays."""
    if not beat_lock_take(TaskName.ENFORCE_RETENTION, settings.RETENTION_TASK_SOFT_TIME_LIMIT + 60):
        return _SKIPPED
    return {"events": partitions_archive_and_drop().as_dict(), "config_audit": config_audit_prune().as_dict()}


@shared_task(name=TaskName.PRUNE_BATCHES.value, **_DB_RETRY)
def prune_batches() -> dict:
    """Delete done inbox batches older than BATCH_RETENTION_HOURS."""
    if not beat_lock_take(TaskName.PRUNE_BATCHES, 600):
        return _SKIPPED
    return {"deleted": batches_prune()}


# ---- issue 11: worker queue health ----
@shared_task(name=TaskName.QUEUE_HEARTBEAT.value, ignore_result=True, soft_time_limit=30, time_limit=60)
def queue_heartbeat(queue: str) -> None:
    """Stamp "a worker of ``queue`` answered now" for the dashboard (no lock: duplicates are harmless)."""
    queue_heartbeat_record(queue)


# ---- issue 14: alert lifecycle ----
@shared_task(name=TaskName.PRUNE_SIGNATURES.value, **_DB_RETRY)
def prune_signatures() -> dict:
    """Forget alert signatures not seen for SIGNATURE_RETENTION_DAYS."""
    from remediation.lifecycle_prune import signatures_prune

    if not beat_lock_take(TaskName.PRUNE_SIGNATURES, 600):
        return _SKIPPED
    return {"deleted": signatures_prune()}
