"""Status reads for the dashboard, ``/api/v2/metrics`` and ``/api/v1/slo`` (selectors: no writes).

Why here: the status joins the inbox and audit (``alerts``), the breaker and
rate limiter (``forwarding``) and the queue heartbeats (``remediation``).
Dependencies point towards ``alerts`` (``remediation → alerts, forwarding``;
nothing imports ``ingest``), so ``remediation`` is the one app allowed to read
all of them. The ingest counters it needs live in ``alerts.pipeline_stats``.

Cost: no query here grows with ``event_audit_log``. Counters come from Redis
buckets; backlog from the partial index on unfinished ``ingest_batches``;
outbox and dead letters are small tables with indexes; the SLO's latency
share reads only the window's audit rows (partition pruning on
``received_at``), with a row cap (``bench/dashboard.py`` measures it on 10
million rows).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field

import orjson
from django.conf import settings
from django.db import DatabaseError, connection, connections
from redis.exceptions import RedisError

from alerts.dynamic_config import runtime
from alerts.pipeline_stats import (
    eps_rates,
    eps_series_last_hour,
    forwarded_recent,
    ingest_requests_window,
    stats_today,
    totals,
    unmatched_hosts_top,
)
from alerts.rule_stats import rule_stats_all
from forwarding.circuit_breaker import breaker_status
from forwarding.client import moog_last_error
from forwarding.outbox_stats import outbox_class_stats_last
from mutt_project import redis_keys
from mutt_project.queues import Queue
from mutt_project.redis_client import get_redis
from mutt_project.replica import read_alias, replica_state

log = logging.getLogger(__name__)

STATUS_CACHE_SECONDS = 5  # /api/v2/metrics accepts a snapshot this old (the reference guide's 5 s)
DASHBOARD_MAX_AGE_SECONDS = 2  # the dashboard, refreshing every 5 s, wants a fresher one
# A queue whose heartbeat is older than this shows red (the heartbeat runs every 10 s).
QUEUE_STALE_SECONDS = 30

_BACKLOG_SQL = """
SELECT coalesce(sum(event_count), 0), min(received_at)
  FROM ingest_batches WHERE status IN ('pending', 'processing')
"""  # the partial index ingest_batches_unfinished: cost follows the backlog, not the history
_OUTBOX_SQL = """
SELECT count(*) FILTER (WHERE next_attempt_at <= now()), count(*),
       (SELECT last_error FROM alert_outbox WHERE last_error <> '' ORDER BY next_attempt_at DESC LIMIT 1)
  FROM alert_outbox
"""
_DEAD_LETTERS_SQL = "SELECT stage, status, count(*) FROM dead_letters GROUP BY stage, status ORDER BY stage, status"


@dataclass
class Status:
    """Everything the dashboard shows, as JSON-safe values."""

    timestamp: float
    eps: dict
    eps_series: list
    today: dict
    totals: dict
    backlog: dict
    moog: dict
    dead_letters: list
    top_unmatched_hosts: list
    top_rules: list
    last_forwarded: list
    health: dict
    outbox_classes: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    replica: dict = field(default_factory=dict)  # read replica: configured, in_use, lag_seconds


def _backlog() -> dict:
    with connections[read_alias()].cursor() as cursor:
        cursor.execute(_BACKLOG_SQL)
        events, oldest = cursor.fetchone()
        cursor.execute(_OUTBOX_SQL)
        due, waiting, last_error = cursor.fetchone()
    events = int(events)
    return {
        "unclassified_events": events,
        "oldest_unclassified_age": max(0.0, time.time() - oldest.timestamp()) if oldest else None,
        "outbox_due": int(due),
        "outbox_waiting": int(waiting),
        "outbox_last_error": last_error or "",
        "max_ingest_queue_size": runtime("max_ingest_queue_size"),
        "warn_threshold": runtime("alerter_queue_warn_threshold"),
        "shed_threshold": runtime("alerter_queue_shed_threshold"),
        "shedding": events > runtime("max_ingest_queue_size"),
        "warning": events >= runtime("alerter_queue_warn_threshold"),
    }


def _dead_letters() -> list:
    with connections[read_alias()].cursor() as cursor:
        cursor.execute(_DEAD_LETTERS_SQL)
        return [{"stage": s, "status": st, "count": n} for s, st, n in cursor.fetchall()]


def _moog() -> dict:
    breaker = breaker_status()
    last_error = moog_last_error()
    client = get_redis()
    now_us = time.time() * 1_000_000
    sent_last_second = client.zcount(redis_keys.RATE_LIMIT_SENT, now_us - 1_000_000, "+inf")
    return {
        "breaker_state": breaker["state"],
        "breaker_failures": breaker["failures"],
        "breaker_opened_at": breaker["opened_at"],
        "breaker_open_for": (time.time() - breaker["opened_at"]) if breaker["opened_at"] else None,
        "sends_last_second": int(sent_last_second),
        "rate_limit": runtime("moog_rate_limit"),
        "rate_period": runtime("moog_rate_period"),
        "last_error": last_error["error"] if last_error else "",
        "last_error_at": last_error["at"] if last_error else None,
    }


def _top_rules(limit: int = 10) -> list[dict]:
    from alerts.models import AlertRule

    stats = sorted(rule_stats_all().items(), key=lambda kv: -kv[1][0])[:limit]
    names = dict(AlertRule.objects.filter(pk__in=[r for r, _ in stats]).values_list("pk", "match_string"))
    return [
        {"rule_id": rule_id, "match_string": names.get(rule_id, "(deleted)"), "hits": hits, "last_match": last}
        for rule_id, (hits, last) in stats
    ]


def queues_health(now: float | None = None) -> dict[str, dict]:
    """Per worker queue: age of the last heartbeat a worker of that queue ran, and ok/stale."""
    now = now if now is not None else time.time()
    queues = [q.value for q in Queue]
    beats = get_redis().mget([f"{redis_keys.QUEUE_HEARTBEAT}{q}" for q in queues])
    result = {}
    for queue, beat in zip(queues, beats, strict=True):
        age = now - float(beat) if beat else None
        result[queue] = {"age": age, "ok": age is not None and age <= QUEUE_STALE_SECONDS}
    return result


def _health() -> dict:
    health = {"postgres": True, "redis": True}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        health["postgres"] = False
    try:
        get_redis().ping()
        health["queues"] = queues_health()
    except RedisError:
        health["redis"] = False
        health["queues"] = {q.value: {"age": None, "ok": False} for q in Queue}
    return health


def status_read() -> Status:
    """The live status; each part that fails is left empty and named in ``errors`` (never a 500)."""
    errors: list[str] = []

    def part(name, fn, default):
        try:
            return fn()
        except (DatabaseError, RedisError) as exc:
            log.warning("status: %s unavailable (%s)", name, type(exc).__name__)
            errors.append(name)
            return default

    dead = part("dead_letters", _dead_letters, [])
    backlog = part("backlog", _backlog, {})
    return Status(
        timestamp=time.time(),
        eps=part("eps", eps_rates, {}),
        eps_series=part("eps_series", eps_series_last_hour, []),
        today=part("today", stats_today, {}),
        totals=part("totals", totals, {}),
        backlog=backlog,
        moog=part("moog", _moog, {}),
        dead_letters=dead,
        top_unmatched_hosts=part("top_unmatched_hosts", unmatched_hosts_top, []),
        top_rules=part("top_rules", _top_rules, []),
        last_forwarded=part("last_forwarded", forwarded_recent, []),
        health=_health(),
        outbox_classes=part("outbox_classes", outbox_class_stats_last, []),
        errors=errors,
        replica=replica_state().as_dict(),
    )


def status_cached(max_age: float = STATUS_CACHE_SECONDS) -> dict:
    """``status_read`` as a dict, shared by every web process through Redis for a few seconds."""
    client = get_redis()
    try:
        cached = client.get(redis_keys.STATUS_CACHE)
        if cached:
            status = orjson.loads(cached)
            if time.time() - status["timestamp"] <= max_age:
                return status
    except RedisError:
        return asdict(status_read())
    status = asdict(status_read())
    try:
        client.set(redis_keys.STATUS_CACHE, orjson.dumps(status), ex=STATUS_CACHE_SECONDS)
    except RedisError:
        pass  # the status itself says Redis is down
    return status


def metrics_summary(status: dict) -> dict:
    """``/api/v2/metrics`` in the reference guide's shape, plus ``eps``."""
    eps = status.get("eps") or {}
    counted = status.get("totals") or {}
    backlog = status.get("backlog") or {}
    state = (status.get("moog") or {}).get("breaker_state", "unknown")
    return {
        "timestamp": status["timestamp"],
        "counters": {
            "ingest_total": counted.get("accepted", 0),
            "alerter_processed_total": counted.get("classified", 0),
            "moog_forwarded_total": counted.get("forwarded", 0),
        },
        "queues": {
            "ingest_queue_depth": backlog.get("unclassified_events"),
            "alert_queue_depth": backlog.get("outbox_due"),
        },
        "circuit_breaker": {"moog_state": state.upper()},
        # Beyond the reference: per forwarding priority class, what waits, the oldest age and the
        # expected drain time (the outbox-stats job's snapshot, every 15 s).
        "outbox_classes": status.get("outbox_classes") or [],
        "eps": {"1m": eps.get("last_minute", 0), "1h": eps.get("last_hour", 0), "24h": eps.get("last_day", 0)},
        "replica": status.get("replica") or {"configured": False, "in_use": False, "lag_seconds": None},
    }


# The latency SLO reads at most this many of the window's newest audit rows
# (newest first on the received_at index, partitions outside the window pruned),
# so its cost is bounded however large the table and however busy the window.
_LATENCY_SAMPLE = 10_000
_LATENCY_SQL = """
SELECT count(*) FILTER (WHERE processed_at - received_at <= make_interval(secs => %s)), count(*)
  FROM (SELECT received_at, processed_at FROM event_audit_log
         WHERE received_at >= now() - make_interval(hours => %s)
         ORDER BY received_at DESC LIMIT %s) AS recent
"""


def _slo(target: float, good: int, total: int, **extra) -> dict:
    actual = good / total if total else None
    return {
        "target": target,
        "actual": actual,
        "compliant": actual is None or actual >= target,
        "samples": total,
        **extra,
    }


def slo_report(window_hours: int | None = None) -> dict:
    """SLO compliance from MUTT's own data, in the reference guide's shape.

    ``ingest_availability`` = accepted / (accepted + 5xx) requests over the
    window (Redis hour buckets); ``alerter_latency`` = share of the window's
    newest events classified within ``SLO_LATENCY_SECONDS`` of receipt. A
    window without traffic is compliant with ``actual`` null.
    """
    hours = window_hours or settings.SLO_WINDOW_HOURS
    accepted, failed = ingest_requests_window(hours)
    with connections[read_alias()].cursor() as cursor:
        cursor.execute(_LATENCY_SQL, [settings.SLO_LATENCY_SECONDS, hours, _LATENCY_SAMPLE])
        fast, sampled = cursor.fetchone()
    slos = {
        "ingest_availability": _slo(settings.SLO_INGEST_AVAILABILITY_TARGET, accepted, accepted + failed),
        "alerter_latency": _slo(
            settings.SLO_LATENCY_TARGET, int(fast), int(sampled), threshold_seconds=settings.SLO_LATENCY_SECONDS
        ),
    }
    return {
        "timestamp": time.time(),
        "window_hours": hours,
        "overall_compliant": all(s["compliant"] for s in slos.values()),
        "slos": slos,
    }
