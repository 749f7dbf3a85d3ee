"""Celery queue and task names: defined here once, used everywhere by name.

``alerts`` wakes the forwarders by task name (it must not import
``forwarding``), so task names are constants too.
"""

from enum import StrEnum


class Queue(StrEnum):
    CLASSIFY = "classify"
    FORWARD = "forward"
    MAINTENANCE = "maintenance"


class TaskName(StrEnum):
    CLASSIFY_PENDING = "mutt.alerts.classify_pending"
    FORWARD_PENDING = "mutt.forwarding.forward_pending"
    SWEEP_STALE = "mutt.remediation.sweep_stale"
    REPLAY_DEAD_LETTERS = "mutt.remediation.replay_dead_letters"
    ENSURE_PARTITIONS = "mutt.remediation.ensure_partitions"
    ENFORCE_RETENTION = "mutt.remediation.enforce_retention"
    PRUNE_BATCHES = "mutt.remediation.prune_batches"
    # --- rule lab (issue 10) ---
    RULE_BACKTEST = "mutt.alerts.rule_backtest"
    RULE_HEALTH = "mutt.alerts.rule_health"
    QUEUE_HEARTBEAT = "mutt.remediation.queue_heartbeat"  # issue 11: sent to every queue by Beat
    EXPORT_OUTBOX_STATS = "mutt.forwarding.export_outbox_stats"  # issue 15
    EMAIL_DIGESTS = "mutt.forwarding.email_digests"  # issue 14: Email_only digests
    PRUNE_SIGNATURES = "mutt.remediation.prune_signatures"  # issue 14


TASK_ROUTES = {
    TaskName.CLASSIFY_PENDING: {"queue": Queue.CLASSIFY},
    TaskName.FORWARD_PENDING: {"queue": Queue.FORWARD},
    TaskName.SWEEP_STALE: {"queue": Queue.MAINTENANCE},
    TaskName.REPLAY_DEAD_LETTERS: {"queue": Queue.MAINTENANCE},
    TaskName.ENSURE_PARTITIONS: {"queue": Queue.MAINTENANCE},
    TaskName.ENFORCE_RETENTION: {"queue": Queue.MAINTENANCE},
    TaskName.PRUNE_BATCHES: {"queue": Queue.MAINTENANCE},
    # --- rule lab (issue 10) ---
    TaskName.RULE_BACKTEST: {"queue": Queue.MAINTENANCE},
    TaskName.RULE_HEALTH: {"queue": Queue.MAINTENANCE},
    TaskName.EXPORT_OUTBOX_STATS: {"queue": Queue.MAINTENANCE},  # issue 15
    TaskName.EMAIL_DIGESTS: {"queue": Queue.MAINTENANCE},  # issue 14
    TaskName.PRUNE_SIGNATURES: {"queue": Queue.MAINTENANCE},  # issue 14
}
