"""Celery tasks of forwarding (thin)."""

from celery import shared_task
from django.db import DatabaseError, InterfaceError

from forwarding.services import outbox_forward
from mutt_project.queues import Queue, TaskName


@shared_task(
    name=TaskName.FORWARD_PENDING.value,
    queue=Queue.FORWARD.value,
    autoretry_for=(DatabaseError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=10,
)
def forward_pending() -> dict:
    """Send due outbox rows to Moogsoft for one time slice (woken on commit by classify)."""
    result = outbox_forward()
    return {"sent": result.sent, "retried": result.retried, "dead": result.dead}
