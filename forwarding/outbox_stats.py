"""What waits in the outbox, per priority class: depth, oldest age, expected drain time.

Read by the outbox-stats Beat job (exported as Prometheus gauges) and by the
outbox admin page, through the same selector. The per-handling counts are one
``GROUP BY`` over the outbox (a sequential scan: ~0.1-0.3 s at a million
rows, so it runs on a schedule, never per alert).

The drain time of a class counts every class drained before it too (they go
first) and divides by the delivery rate measured between two runs of the job
(``mutt_forward_delivery_rate``); before the first measurement, or while
nothing is delivered, the configured best rate is used and said so.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from redis.exceptions import RedisError

from alerts.dynamic_config import runtime
from forwarding.metrics import (
    FORWARD_DELIVERY_RATE,
    OUTBOX_CLASS_DEPTH,
    OUTBOX_CLASS_DRAIN_SECONDS,
    OUTBOX_CLASS_OLDEST_AGE,
)
from forwarding.priority import class_label, priority_classes
from mutt_project import redis_keys
from mutt_project.redis_client import get_redis


@dataclass(frozen=True)
class ClassStats:
    label: str
    handlings: tuple[str, ...]
    depth: int
    oldest_age: float  # seconds; 0 when empty
    drain_seconds: float | None  # None when the rate is unknown or zero


def configured_rate() -> float:
    """The best the limits allow, in alerts per second."""
    rate = runtime("moog_rate_limit") / runtime("moog_rate_period") * settings.MOOG_BATCH_SIZE
    if settings.MOOG_EVENTS_PER_SECOND > 0:
        rate = min(rate, settings.MOOG_EVENTS_PER_SECOND)
    return rate


def delivered_count(count: int) -> None:
    """Count delivered alerts for the rate measurement (best effort: a lost increment skews one sample)."""
    if count:
        try:
            get_redis().incrby(redis_keys.FORWARD_DELIVERED, count)
        except (RedisError, OSError):
            pass  # only the rate estimate suffers; delivery state is in PostgreSQL


def delivery_rate_measure() -> float | None:
    """Alerts/s delivered since the previous call (any process), None on the first call."""
    client = get_redis()
    now = time.time()
    total = int(client.get(redis_keys.FORWARD_DELIVERED) or 0)
    previous = client.getset(redis_keys.FORWARD_DELIVERED_SAMPLE, f"{total}:{now}")
    if not previous:
        return None
    count, at = previous.split(":") if isinstance(previous, str) else previous.decode().split(":")
    elapsed = now - float(at)
    if elapsed <= 0 or total < int(count):
        return None
    return (total - int(count)) / elapsed


def delivery_rate_last() -> float | None:
    """The rate the last outbox-stats run measured (alerts/s), None when there is no recent one."""
    try:
        value = get_redis().get(redis_keys.FORWARD_DELIVERY_RATE)
    except (RedisError, OSError):
        return None
    return None if value is None else float(value)


def outbox_class_stats(rate: float | None = None) -> list[ClassStats]:
    """Per priority class, in drain order; ``rate`` in alerts/s (default: the configured best)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT handling, count(*), EXTRACT(EPOCH FROM now() - min(created_at)) FROM alert_outbox GROUP BY handling"
        )
        by_handling = {h: (int(n), float(age or 0)) for h, n, age in cursor.fetchall()}
    rate = configured_rate() if rate is None else rate
    stats, ahead = [], 0
    for handlings in priority_classes():
        depth = sum(by_handling.get(h, (0, 0.0))[0] for h in handlings)
        oldest = max((by_handling[h][1] for h in handlings if h in by_handling), default=0.0)
        ahead += depth
        drain = ahead / rate if rate > 0 else None
        stats.append(ClassStats(class_label(handlings), handlings, depth, oldest, drain if depth else 0.0))
    return stats


def outbox_stats_export() -> list[ClassStats]:
    """Measure the delivery rate and write the per-class gauges (the Beat job)."""
    measured = delivery_rate_measure()
    if measured is not None:
        FORWARD_DELIVERY_RATE.set(measured)
        # For the admin page; expires so a stopped job never shows an old rate as current.
        get_redis().set(redis_keys.FORWARD_DELIVERY_RATE, f"{measured:.3f}", ex=60)
    # Measured 0 while a backlog waits (an outage): the drain time is unknown (-1), not a guess.
    stats = outbox_class_stats(configured_rate() if measured is None else measured)
    for row in stats:
        OUTBOX_CLASS_DEPTH.labels(row.label).set(row.depth)
        OUTBOX_CLASS_OLDEST_AGE.labels(row.label).set(row.oldest_age)
        OUTBOX_CLASS_DRAIN_SECONDS.labels(row.label).set(row.drain_seconds if row.drain_seconds is not None else -1)
    # The same figures for the dashboard and /api/v2/metrics: they read this snapshot, never the
    # outbox itself (the GROUP BY scans every waiting row). Expires so a stopped job shows nothing.
    snapshot = [
        {"class": r.label, "depth": r.depth, "oldest_age": round(r.oldest_age, 1), "drain_seconds": r.drain_seconds}
        for r in stats
    ]
    get_redis().set(redis_keys.OUTBOX_CLASS_STATS, json.dumps(snapshot), ex=60)
    return stats


def outbox_class_stats_last() -> list[dict]:
    """The outbox-stats job's last per-class snapshot (empty when it has not run for a minute)."""
    raw = get_redis().get(redis_keys.OUTBOX_CLASS_STATS)
    return json.loads(raw) if raw else []
