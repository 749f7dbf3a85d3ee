"""The sweeper: re-wake a stage whose work stayed due past the grace period (Beat, every minute).

This is what makes a lost wake-up cost latency and never an event
(docs/architecture.md, "Wake-ups"): whatever happened to Redis or a Celery
message, work that waits in PostgreSQL longer than ``SWEEP_GRACE_SECONDS``
gets a fresh wake-up from here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from alerts.choices import BatchStatus
from alerts.models import AlertOutbox, IngestBatch
from alerts.wakeup import WakeKind, wake_stale

log = logging.getLogger(__name__)


@dataclass
class SweepResult:
    stale_batches: int
    stale_outbox: int


def stale_work_rewake(*, grace_seconds: int | None = None) -> SweepResult:
    """Re-wake classifiers / forwarders when work stayed due past the grace period.

    A wake-up lost with Redis (flushed, crashed) costs this much latency, never data.
    """
    grace = timedelta(seconds=settings.SWEEP_GRACE_SECONDS if grace_seconds is None else grace_seconds)
    now = timezone.now()
    stale_batches = IngestBatch.objects.filter(
        Q(status=BatchStatus.PENDING, received_at__lt=now - grace)
        | Q(status=BatchStatus.PROCESSING, lease_until__lt=now)
    ).count()
    stale_outbox = AlertOutbox.objects.filter(next_attempt_at__lt=now - grace).count()
    if stale_batches:
        log.warning("sweeper: %d inbox batches waiting past %s; waking classifiers", stale_batches, grace)
        wake_stale(WakeKind.CLASSIFY)
    if stale_outbox:
        log.warning("sweeper: %d outbox rows due past %s; waking forwarders", stale_outbox, grace)
        wake_stale(WakeKind.FORWARD)
    return SweepResult(stale_batches, stale_outbox)
