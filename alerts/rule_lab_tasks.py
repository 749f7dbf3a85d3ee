"""Rule lab tasks on the maintenance queue (thin: one service call each; never run in a web request).

Registered through ``alerts.tasks`` (Celery autodiscovers that module).
"""

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError, InterfaceError

from mutt_project.queues import TaskName


@shared_task(
    name=TaskName.RULE_BACKTEST.value,
    acks_late=True,
    soft_time_limit=settings.BACKTEST_TASK_SOFT_TIME_LIMIT,  # issue 13
    time_limit=settings.BACKTEST_TASK_SOFT_TIME_LIMIT + settings.TASK_HARD_LIMIT_GRACE,
)
def rule_backtest(backtest_id: str) -> str:
    """Replay a window of stored events through the current rules and a draft; store the report.

    No automatic retry: a failed backtest is recorded as failed and the operator
    starts another (a long scan repeated blindly would only load the database).
    """
    from alerts.services.rule_backtest import backtest_run

    return backtest_run(backtest_id)


@shared_task(
    name=TaskName.RULE_HEALTH.value,
    autoretry_for=(DatabaseError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=3,
    soft_time_limit=settings.MAINTENANCE_TASK_SOFT_TIME_LIMIT,  # issue 13
    time_limit=settings.MAINTENANCE_TASK_SOFT_TIME_LIMIT + settings.TASK_HARD_LIMIT_GRACE,
)
def rule_health() -> dict:
    """Recompute per-rule hits and the never-matched / shadowed / duplicate flags from the audit trail."""
    from alerts.services.rule_health import rule_health_compute

    return rule_health_compute()
