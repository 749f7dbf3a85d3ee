"""Celery tasks of forwarding (thin)."""

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError, InterfaceError

from forwarding.services import outbox_forward
from mutt_project.queues import TaskName


@shared_task(
    name=TaskName.FORWARD_PENDING.value,
    autoretry_for=(DatabaseError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=10,
    # issue 13: a slice is FORWARD_TIME_SLICE_SECONDS plus one request; docs/reliability.md, "Bounds"
    soft_time_limit=settings.FORWARD_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.FORWARD_TASK_SOFT_TIME_LIMIT + settings.TASK_HARD_LIMIT_GRACE,
)
def forward_pending() -> dict:
    """Send due outbox rows to Moogsoft for one time slice, paced to the shared rate limit.

    Woken on commit by classify (one message per burst, not per alert); hands
    over to a fresh message when rows remain after the slice.
    """
    result = outbox_forward()
    return {"sent": result.sent, "retried": result.retried, "dead": result.dead, "more": result.more}
