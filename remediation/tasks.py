"""Beat tasks on the maintenance queue (thin)."""

from celery import shared_task
from django.db import DatabaseError, InterfaceError

from mutt_project.queues import Queue, TaskName
from remediation.services import stale_work_rewake


@shared_task(
    name=TaskName.SWEEP_STALE.value,
    queue=Queue.MAINTENANCE.value,
    autoretry_for=(DatabaseError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=30,
    max_retries=3,
)
def sweep_stale(grace_seconds: int | None = None) -> dict:
    """Re-wake classifiers and forwarders for work that stayed due past the grace period."""
    result = stale_work_rewake(grace_seconds)
    return {"stale_batches": result.stale_batches, "stale_outbox": result.stale_outbox}
