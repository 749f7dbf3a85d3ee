"""Events-per-second counters in Redis for the dashboard.

One counter per second, minute and hour bucket. Writing costs a few commands
added to the request's single Redis pipeline; reading sums the buckets of the
window in one MGET. The counters are statistics: losing them (Redis flushed)
loses no event.
"""

from __future__ import annotations

import time

from redis.client import Pipeline

from mutt_project import redis_keys
from mutt_project.redis_client import get_redis

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
return redis.call('INCRBY', KEYS[4], ARGV[1])
"""


def eps_record(pipe: Pipeline, events: int, now: float | None = None) -> None:
    """Queue the counter increments for ``events`` accepted events on ``pipe`` (one EVAL)."""
    second = int(now if now is not None else time.time())
    pipe.eval(
        _EPS_RECORD_LUA,
        4,
        f"{redis_keys.INGEST_EPS_SECOND}{second}",
        f"{redis_keys.INGEST_EPS_MINUTE}{second // 60}",
        f"{redis_keys.INGEST_EPS_HOUR}{second // 3600}",
        redis_keys.INGEST_TOTAL,
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
