"""Celery tasks of the alerts domain (thin: one service call each).

The queue comes from ``mutt_project.queues.TASK_ROUTES`` (Celery 5.7 deprecates
the ``queue`` task attribute).
"""

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError, InterfaceError

from alerts.backpressure import backlog_shed
from alerts.services import batches_classify
from mutt_project.queues import TaskName


@shared_task(
    name=TaskName.CLASSIFY_PENDING.value,
    autoretry_for=(DatabaseError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=10,
    # issue 13: a slice is CLASSIFY_TIME_SLICE_SECONDS; docs/reliability.md, "Bounds"
    soft_time_limit=settings.CLASSIFY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CLASSIFY_TASK_SOFT_TIME_LIMIT + settings.TASK_HARD_LIMIT_GRACE,
)
def classify_pending() -> dict:
    """Classify pending ingest batches (woken by ingest; re-woken by the sweeper)."""
    backlog_shed()  # runtime-tunable load shedding first (issue 11)
    result = batches_classify()
    return {
        "batches": result.batches,
        "events": result.events,
        "inserted": result.inserted,
        "dead_events": result.dead_events,
        "dead_batches": result.dead_batches,
        "meta_alerts": result.meta_alerts,
    }


# --- rule lab (issue 10): registered here because Celery autodiscovers ``alerts.tasks`` ---
from alerts.rule_lab_tasks import rule_backtest, rule_health  # noqa: E402, F401
