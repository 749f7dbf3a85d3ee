"""Celery tasks of forwarding (thin)."""

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError, InterfaceError

from forwarding.email_digest import email_digests_run
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


# --- issue 15: outbox visibility ------------------------------------------------
@shared_task(name=TaskName.EXPORT_OUTBOX_STATS.value, autoretry_for=(DatabaseError, InterfaceError), max_retries=1)
def export_outbox_stats() -> dict:
    """Per priority class: outbox depth, oldest waiting alert, expected drain time (Prometheus gauges)."""
    from forwarding.outbox_stats import outbox_stats_export

    stats = outbox_stats_export()
    return {s.label: {"depth": s.depth, "oldest_age": round(s.oldest_age, 1)} for s in stats}


@shared_task(
    name=TaskName.EMAIL_DIGESTS.value,
    autoretry_for=(DatabaseError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
)
def email_digests() -> dict:
    """Build and send the Email_only digests (Beat, every EMAIL_DIGEST_SECONDS)."""
    return email_digests_run()
