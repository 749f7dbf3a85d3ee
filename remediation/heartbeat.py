"""Worker queue heartbeats and the pipeline gauges, both from the 10-second Beat heartbeat.

The heartbeat proves, per queue, that some worker still takes its messages
(the dashboard shows a queue red when its stamp is older than 30 s). The
maintenance queue's heartbeat also refreshes the queue-depth gauges, so
Prometheus sees the backlog even while no ingest request or forward slice
runs (the alert rules in deploy/prometheus/ depend on them).
"""

from __future__ import annotations

import time
from datetime import date

from django.db import connection
from django.utils import timezone

from alerts import metrics
from mutt_project import redis_keys
from mutt_project.queues import Queue
from mutt_project.redis_client import get_redis

_HEARTBEAT_TTL = 3600  # an old stamp still says "stale since"; it need not live forever

# Each figure is index-bounded: the partial index on unfinished batches, the
# outbox's next_attempt_at index, the dead letters' pending partial index, the catalog.
_GAUGES_SQL = """
SELECT (SELECT coalesce(sum(event_count), 0) FROM ingest_batches WHERE status IN ('pending', 'processing')),
       (SELECT extract(epoch FROM now() - min(received_at)) FROM ingest_batches
         WHERE status IN ('pending', 'processing')),
       (SELECT count(*) FROM alert_outbox WHERE next_attempt_at <= now()),
       (SELECT count(*) FROM dead_letters WHERE stage = 'forward' AND status = 'pending'),
       to_regclass(%s) IS NOT NULL
"""


def queue_heartbeat_record(queue: str, now: float | None = None) -> None:
    get_redis().set(f"{redis_keys.QUEUE_HEARTBEAT}{queue}", now if now is not None else time.time(), ex=_HEARTBEAT_TTL)
    if queue == Queue.MAINTENANCE:
        pipeline_gauges_update()


def _next_month_partition(today: date) -> str:
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return f"event_audit_log_{year:04d}{month:02d}"


def pipeline_gauges_update() -> None:
    """One query, five gauges."""
    with connection.cursor() as cursor:
        cursor.execute(_GAUGES_SQL, [_next_month_partition(timezone.now().date())])
        backlog, oldest_age, due, dlq, partition = cursor.fetchone()
    metrics.INGEST_QUEUE_DEPTH.set(int(backlog))
    metrics.OLDEST_UNCLASSIFIED_AGE.set(float(oldest_age or 0))
    metrics.ALERT_QUEUE_DEPTH.set(int(due))
    metrics.MOOG_DLQ_DEPTH.set(int(dlq))
    metrics.PARTITION_NEXT_MONTH.set(1 if partition else 0)
    metrics.GAUGES_UPDATED.set(time.time())
