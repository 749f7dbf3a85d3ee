"""Celery Beat entries owned by remediation (crontab, each with ``expires``).

Read by ``mutt_project.settings`` (CELERY_BEAT_SCHEDULE). ``expires`` drops a
message nobody ran in time, so a backlog of stale maintenance never piles up.
Only the leader Beat sends them (``remediation.beat_scheduler``); should two
overlap for a moment, the tasks' Beat locks make the duplicates do nothing.
"""

from datetime import timedelta

from celery.schedules import crontab

from mutt_project.queues import Queue, TaskName


def _entry(task: TaskName, schedule: crontab | timedelta, expires: int) -> dict:
    return {"task": task.value, "schedule": schedule, "options": {"queue": Queue.MAINTENANCE.value, "expires": expires}}


BEAT_SCHEDULE = {
    "sweep-stale": _entry(TaskName.SWEEP_STALE, crontab(), 55),  # every minute
    # Every REMEDIATION_INTERVAL_SECONDS (below), expiring before the next run.
    # Several times a day, so a missed run (Beat down at midnight) never leaves a month without a partition.
    "ensure-partitions": _entry(TaskName.ENSURE_PARTITIONS, crontab(minute=5, hour="*/6"), 3600),
    "enforce-retention": _entry(TaskName.ENFORCE_RETENTION, crontab(minute=15, hour=1), 3600),
    "prune-batches": _entry(TaskName.PRUNE_BATCHES, crontab(minute=30), 1800),
    # --- rule lab (issue 10): rule health from the audit trail ---
    "rule-health": _entry(TaskName.RULE_HEALTH, crontab(minute="*/15"), 600),
    # issue 15: outbox depth / oldest age / drain time per priority class, every few seconds.
    "export-outbox-stats": _entry(TaskName.EXPORT_OUTBOX_STATS, timedelta(seconds=15), 14),
}

# ---- issue 14: Email_only digests, one per team per EMAIL_DIGEST_SECONDS ----
# Read from the environment here: this module is imported while the settings load.
from mutt_project.env import env_int  # noqa: E402

_DIGEST_SECONDS = env_int("EMAIL_DIGEST_SECONDS", 60, minimum=5)
_REMEDIATION_SECONDS = env_int("REMEDIATION_INTERVAL_SECONDS", 60, minimum=5)
BEAT_SCHEDULE["replay-dead-letters"] = _entry(
    TaskName.REPLAY_DEAD_LETTERS, timedelta(seconds=_REMEDIATION_SECONDS), max(1, _REMEDIATION_SECONDS - 5)
)
BEAT_SCHEDULE["prune-signatures"] = _entry(TaskName.PRUNE_SIGNATURES, crontab(minute=45), 1800)
BEAT_SCHEDULE["email-digests"] = {
    "task": TaskName.EMAIL_DIGESTS.value,
    "schedule": float(_DIGEST_SECONDS),
    "options": {"queue": Queue.MAINTENANCE.value, "expires": _DIGEST_SECONDS - 1},
}

# ---- issue 11: worker queue health for the dashboard ----
# Every 10 s one heartbeat task per queue; whichever worker of that queue runs
# it stamps the time in Redis. A queue nobody serves goes stale (red) in 30 s.
for _queue in Queue:
    BEAT_SCHEDULE[f"heartbeat-{_queue.value}"] = {
        "task": TaskName.QUEUE_HEARTBEAT.value,
        "schedule": 10.0,
        "args": [_queue.value],
        "options": {"queue": _queue.value, "expires": 9},
    }
