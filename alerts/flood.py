"""Unhandled-flood detection: unmatched events counted per host and window in Redis.

One Lua script per batch updates every host's counter atomically and reports
the hosts whose counter *crossed* ``UNHANDLED_EVENT_THRESHOLD`` in this call.
Redis runs scripts one at a time, so however many workers race on one host,
exactly one of them sees the crossing for a window and raises the meta-alert.
Windows are fixed (aligned to the epoch), so a window has a stable start that
names the meta-alert (``flood_correlation_id``) and lets PostgreSQL's unique
keys fold a duplicate if a counter is ever lost.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from alerts.dynamic_config import runtime
from mutt_project import redis_keys
from mutt_project.redis_client import get_redis

# KEYS: one counter key per host. ARGV: threshold, ttl, then one count per key.
# Returns the 1-based indices of the keys whose counter crossed the threshold.
_COUNT_SCRIPT = """
local threshold = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local crossed = {}
for i, key in ipairs(KEYS) do
  local added = tonumber(ARGV[i + 2])
  local after = redis.call('INCRBY', key, added)
  if after == added then
    redis.call('EXPIRE', key, ttl)
  end
  if after >= threshold and after - added < threshold then
    crossed[#crossed + 1] = i
  end
end
return crossed
"""

_FLOOD_NAMESPACE = uuid.UUID("8a0f5c8e-3d1b-4c55-9d59-6f2f0d1c7e11")


@dataclass(frozen=True)
class Flood:
    """One host that reached the threshold within one window."""

    hostname: str
    window_start: int  # epoch seconds
    count: int

    @property
    def correlation_id(self) -> str:
        return flood_correlation_id(self.hostname, self.window_start)


def flood_correlation_id(hostname: str, window_start: int) -> str:
    return str(uuid.uuid5(_FLOOD_NAMESPACE, f"{hostname}@{window_start}"))


def unhandled_count(per_host: dict[str, int], now: float | None = None) -> list[Flood]:
    """Count unmatched events per host (one round trip); return the floods raised by this call.

    Raises ``RedisError``; the caller decides what a failed count costs.
    """
    if not per_host:
        return []
    window = runtime("unhandled_event_window")
    threshold = runtime("unhandled_event_threshold")
    window_start = int(now if now is not None else time.time()) // window * window
    hosts = list(per_host)
    keys = [f"{redis_keys.UNHANDLED_COUNT}{host}:{window_start}" for host in hosts]
    script = get_redis().register_script(_COUNT_SCRIPT)
    # The counter outlives its window a little so a slow batch still lands in it.
    crossed = script(keys=keys, args=[threshold, window + 60, *(per_host[h] for h in hosts)])
    return [Flood(hosts[i - 1], window_start, threshold) for i in crossed]
