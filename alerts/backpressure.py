"""The classifiers' load shedding (the reference's alerter backpressure), read from runtime settings.

Before each classify run: when the unclassified backlog reaches
``alerter_queue_warn_threshold`` the run logs a warning and counts it; at
``alerter_queue_shed_threshold`` it sheds, as ``alerter_shed_mode`` says:

- ``dlq``: the oldest pending batches (up to ``SHED_BATCHES`` per run, as the
  reference sheds up to 10 messages) become classify dead letters. Nothing is
  lost: remediation replays them into the inbox with backoff once the storm
  has passed, and the operator sees them on the dashboard and in the admin.
- ``defer``: the run sleeps ``ALERTER_DEFER_SLEEP_MS`` first, so classifiers
  (and PostgreSQL) get room to catch up instead of competing for it.

Ingest's own backpressure (503 above ``max_ingest_queue_size``) is separate
and comes first.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from alerts import metrics
from alerts.choices import BatchStatus, DeadLetterStage
from alerts.dynamic_config import runtime
from alerts.models import DeadLetter, IngestBatch

log = logging.getLogger(__name__)

SHED_BATCHES = 10

_BACKLOG_SQL = "SELECT coalesce(sum(event_count), 0) FROM ingest_batches WHERE status IN ('pending', 'processing')"


def backlog_now() -> int:
    """Unclassified events (partial index on unfinished batches: cost follows the backlog, not the history)."""
    with connection.cursor() as cursor:
        cursor.execute(_BACKLOG_SQL)
        return int(cursor.fetchone()[0])


def _shed_to_dead_letters(backlog: int, threshold: int) -> int:
    with transaction.atomic():
        batches = list(
            IngestBatch.objects.select_for_update(skip_locked=True)
            .filter(status=BatchStatus.PENDING)
            .order_by("id")[:SHED_BATCHES]
        )
        error = f"shed: backlog {backlog} events >= alerter_queue_shed_threshold {threshold} (mode dlq)"
        DeadLetter.objects.bulk_create(
            [
                DeadLetter(
                    stage=DeadLetterStage.CLASSIFY,
                    batch_id=b.id,
                    payload={"batch_id": b.id, "events": b.events},
                    last_error=error,
                    attempts=0,
                    next_attempt_at=timezone.now(),
                )
                for b in batches
            ]
        )
        IngestBatch.objects.filter(pk__in=[b.id for b in batches]).update(
            status=BatchStatus.DEAD, processed_at=timezone.now()
        )
    return sum(b.event_count for b in batches)


def backlog_shed() -> str:
    """Apply the alerter backpressure once; returns ``ok``, ``warn``, ``shed_dlq`` or ``shed_defer``."""
    warn, shed = runtime("alerter_queue_warn_threshold"), runtime("alerter_queue_shed_threshold")
    backlog = backlog_now()
    if backlog < warn and backlog < shed:
        return "ok"
    metrics.BACKPRESSURE_WARNINGS.inc()
    if backlog < shed:
        log.warning("classify backlog high: %d events (warn threshold %d)", backlog, warn)
        return "warn"
    mode = runtime("alerter_shed_mode")
    log.error("classify backlog critical: %d events (shed threshold %d), shedding (mode %s)", backlog, shed, mode)
    if mode == "dlq":
        shed_events = _shed_to_dead_letters(backlog, shed)
        metrics.SHED_EVENTS.inc(shed_events)
        log.warning("shed %d events to classify dead letters", shed_events)
        return "shed_dlq"
    time.sleep(settings.ALERTER_DEFER_SLEEP_MS / 1000)
    metrics.DEFER_EVENTS.inc()
    return "shed_defer"
