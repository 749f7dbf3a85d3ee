"""Celery Beat entries owned by remediation (crontab, each with ``expires``).

Read by ``mutt_project.settings`` (CELERY_BEAT_SCHEDULE). ``expires`` drops a
message nobody ran in time, so a backlog of stale maintenance never piles up.
"""

from celery.schedules import crontab

from mutt_project.queues import Queue, TaskName

BEAT_SCHEDULE = {
    "sweep-stale": {
        "task": TaskName.SWEEP_STALE.value,
        "schedule": crontab(),  # every minute
        "options": {"queue": Queue.MAINTENANCE.value, "expires": 55},
    },
    # replay-dead-letters, ensure-partitions, enforce-retention, prune-batches:
    # added together with their tasks.
}
