"""Pipeline statistics in Redis for the dashboard and ``/api/v2/metrics``.

They live in ``alerts`` because every stage writes them (ingest, classify,
forwarding) and the dashboard (``remediation``) reads them: dependencies point
towards ``alerts``, and nothing may import ``ingest``.

Events per second: one counter per second, minute and hour bucket. Writing costs a few commands
added to the request's single Redis pipeline; reading sums the buckets of the
window in one MGET. The counters are statistics: losing them (Redis flushed)
loses no event.
"""

from __future__ import annotations

import logging
import time

import orjson
from redis.client import Pipeline
from redis.exceptions import RedisError

from alerts import metrics
from mutt_project import redis_keys
from mutt_project.redis_client import get_redis

log = logging.getLogger(__name__)

# Each bucket lives a little longer than the window that reads it.
_SECOND_TTL = 2 * 60
_MINUTE_TTL = 2 * 3600
_HOUR_TTL = 25 * 3600


# All increments and expiries in one command: packing and parsing eight
# separate pipeline commands cost more Python time than the rest of the request.
_EPS_RECORD_LUA = """
for i = 1, 3 do
  redis.call('INCRBY', KEYS[i], ARGV[1])
  redis.call('EXPIRE', KEYS[i], ARGV[i + 1])
end
redis.call('INCR', KEYS[5])
redis.call('EXPIRE', KEYS[5], ARGV[4])
return redis.call('INCRBY', KEYS[4], ARGV[1])
"""


def eps_record(pipe: Pipeline, events: int, now: float | None = None) -> None:
    """Queue the counter increments for ``events`` accepted events on ``pipe`` (one EVAL)."""
    second = int(now if now is not None else time.time())
    pipe.eval(
        _EPS_RECORD_LUA,
        5,
        f"{redis_keys.INGEST_EPS_SECOND}{second}",
        f"{redis_keys.INGEST_EPS_MINUTE}{second // 60}",
        f"{redis_keys.INGEST_EPS_HOUR}{second // 3600}",
        redis_keys.INGEST_TOTAL,
        f"{redis_keys.STATS_INGEST_ACCEPTED_HOUR}{second // 3600}",  # accepted requests (SLO)
        events,
        _SECOND_TTL,
        _MINUTE_TTL,
        _HOUR_TTL,
    )


def eps_rates(now: float | None = None) -> dict[str, float | int]:
    """Accepted events per second over the last minute, hour and day, plus the total ever.

    Each window sums its buckets up to and including the current one, so the
    figure moves as soon as events arrive.
    """
    second = int(now if now is not None else time.time())
    minute, hour = second // 60, second // 3600
    keys = (
        [f"{redis_keys.INGEST_EPS_SECOND}{s}" for s in range(second - 59, second + 1)]
        + [f"{redis_keys.INGEST_EPS_MINUTE}{m}" for m in range(minute - 59, minute + 1)]
        + [f"{redis_keys.INGEST_EPS_HOUR}{h}" for h in range(hour - 23, hour + 1)]
        + [redis_keys.INGEST_TOTAL]
    )
    values = [int(v or 0) for v in get_redis().mget(keys)]
    return {
        "last_minute": sum(values[0:60]) / 60,
        "last_hour": sum(values[60:120]) / 3600,
        "last_day": sum(values[120:144]) / 86400,
        "total": values[144],
    }


# ---- classified / forwarded per hour, unmatched hosts, recent forwards -----

_RECENT_FORWARDED = 20


def _hour(now: float | None) -> int:
    return int(now if now is not None else time.time()) // 3600


# KEYS[1]: the hour's sorted set of unmatched hosts. ARGV: ttl, then host, count pairs.
_UNMATCHED_SCRIPT = """
for i = 2, #ARGV, 2 do
  redis.call('ZINCRBY', KEYS[1], ARGV[i + 1], ARGV[i])
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
"""


def classified_record(events: int, unmatched: dict[str, int], now: float | None = None) -> None:
    """Count one classified claim: events per hour, unmatched events per host per hour (one round trip).

    Raises ``RedisError``; callers count and log it (a statistic, never an event).
    """
    unmatched_total = sum(unmatched.values())
    metrics.MESSAGES_PROCESSED.labels("matched").inc(events - unmatched_total)
    metrics.MESSAGES_PROCESSED.labels("unmatched").inc(unmatched_total)
    hour = _hour(now)
    pipe = get_redis().pipeline(transaction=False)
    pipe.incrby(f"{redis_keys.STATS_CLASSIFIED_HOUR}{hour}", events)
    pipe.incrby(redis_keys.STATS_CLASSIFIED_TOTAL, events)
    pipe.expire(f"{redis_keys.STATS_CLASSIFIED_HOUR}{hour}", _HOUR_TTL)
    if unmatched:
        # One command for every host of the claim (a claim may see hundreds): packing one
        # ZINCRBY per host cost more than the rest of the claim's Redis work. EVAL, not
        # EVALSHA: a pipeline would first ask whether the script is loaded (a round trip).
        args: list = [2 * 3600]
        for host, count in unmatched.items():
            args += (host, count)
        pipe.eval(_UNMATCHED_SCRIPT, 1, f"{redis_keys.STATS_UNMATCHED_HOSTS}{hour}", *args)
    pipe.execute()


def forwarded_record(alerts: list[dict], now: float | None = None) -> None:
    """Count delivered alerts and keep the last few for the dashboard (one round trip).

    A Redis error is logged and swallowed: the alerts are delivered and
    recorded in PostgreSQL already; only the statistic is lost.
    """
    if not alerts:
        return
    try:
        _forwarded_record(alerts, now)
    except RedisError as exc:
        log.warning("forwarding statistics not updated (%s)", type(exc).__name__)


def _forwarded_record(alerts: list[dict], now: float | None) -> None:
    stamp = now if now is not None else time.time()
    key = f"{redis_keys.STATS_FORWARDED_HOUR}{_hour(stamp)}"
    pipe = get_redis().pipeline(transaction=False)
    pipe.incrby(key, len(alerts))
    pipe.incrby(redis_keys.STATS_FORWARDED_TOTAL, len(alerts))
    pipe.expire(key, _HOUR_TTL)
    recent = alerts[-_RECENT_FORWARDED:]
    pipe.lpush(
        redis_keys.STATS_FORWARDED_RECENT,
        *(
            orjson.dumps(
                {
                    "sent_at": stamp,
                    "correlation_id": a.get("correlation_id"),
                    "hostname": a.get("hostname"),
                    "handling": a.get("handling"),
                    "team": a.get("team"),
                    "message": str(a.get("message", ""))[:200],
                }
            )
            for a in recent
        ),
    )
    pipe.ltrim(redis_keys.STATS_FORWARDED_RECENT, 0, _RECENT_FORWARDED - 1)
    pipe.execute()


def stats_today(now: float | None = None) -> dict[str, int]:
    """Events accepted, classified and forwarded since midnight UTC (hour buckets, one MGET)."""
    second = int(now if now is not None else time.time())
    first, last = (second - second % 86400) // 3600, second // 3600
    hours = range(first, last + 1)
    prefixes = (redis_keys.INGEST_EPS_HOUR, redis_keys.STATS_CLASSIFIED_HOUR, redis_keys.STATS_FORWARDED_HOUR)
    values = get_redis().mget([f"{p}{h}" for p in prefixes for h in hours])
    n = len(hours)
    sums = [sum(int(v or 0) for v in values[i * n : (i + 1) * n]) for i in range(3)]
    return {"accepted": sums[0], "classified": sums[1], "forwarded": sums[2]}


def eps_series_last_hour(now: float | None = None) -> list[tuple[int, float]]:
    """(minute start epoch, events per second in that minute) for the last 60 minutes (one MGET)."""
    minute = int(now if now is not None else time.time()) // 60
    minutes = range(minute - 59, minute + 1)
    values = get_redis().mget([f"{redis_keys.INGEST_EPS_MINUTE}{m}" for m in minutes])
    return [(m * 60, int(v or 0) / 60) for m, v in zip(minutes, values, strict=True)]


def unmatched_hosts_top(limit: int = 10, now: float | None = None) -> list[tuple[str, int]]:
    """Hosts with the most unmatched events over the current and previous hour bucket."""
    hour = _hour(now)
    client = get_redis()
    pipe = client.pipeline(transaction=False)
    for h in (hour - 1, hour):
        pipe.zrevrange(f"{redis_keys.STATS_UNMATCHED_HOSTS}{h}", 0, 200, withscores=True)
    totals: dict[str, float] = {}
    for rows in pipe.execute():
        for host, count in rows:
            totals[host] = totals.get(host, 0) + count
    return [(h, int(c)) for h, c in sorted(totals.items(), key=lambda kv: -kv[1])[:limit]]


def forwarded_recent() -> list[dict]:
    return [orjson.loads(v) for v in get_redis().lrange(redis_keys.STATS_FORWARDED_RECENT, 0, _RECENT_FORWARDED - 1)]


def ingest_failure_record(now: float | None = None) -> None:
    """Count one ingest request answered 5xx (the availability SLO); a Redis error is logged only."""
    key = f"{redis_keys.STATS_INGEST_5XX_HOUR}{_hour(now)}"
    try:
        pipe = get_redis().pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, _HOUR_TTL)
        pipe.execute()
    except RedisError as exc:
        log.warning("ingest failure statistic not updated (%s)", type(exc).__name__)


def ingest_requests_window(hours: int, now: float | None = None) -> tuple[int, int]:
    """(accepted requests, 5xx requests) over the last ``hours`` hour buckets (at most 24 kept)."""
    hour = _hour(now)
    span = range(hour - min(hours, 24) + 1, hour + 1)
    values = get_redis().mget(
        [f"{redis_keys.STATS_INGEST_ACCEPTED_HOUR}{h}" for h in span]
        + [f"{redis_keys.STATS_INGEST_5XX_HOUR}{h}" for h in span]
    )
    n = len(span)
    return sum(int(v or 0) for v in values[:n]), sum(int(v or 0) for v in values[n:])


def totals() -> dict[str, int]:
    """Events accepted, classified and forwarded since Redis last lost them."""
    accepted, classified, forwarded = get_redis().mget(
        [redis_keys.INGEST_TOTAL, redis_keys.STATS_CLASSIFIED_TOTAL, redis_keys.STATS_FORWARDED_TOTAL]
    )
    return {"accepted": int(accepted or 0), "classified": int(classified or 0), "forwarded": int(forwarded or 0)}
