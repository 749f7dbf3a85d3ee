"""Request rate per API key, user or address, counted in Redis so every web process shares one limit.

A sliding window on Redis's clock: a sorted set of the arrivals accepted in
the last period. A request is accepted when fewer than N arrivals are in the
window ending now, so no interval of one period ever holds more than N,
however many processes answer and however their clocks differ.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from mutt_project import redis_keys
from mutt_project.redis_client import get_redis

_PERIODS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}


def parse_rate(rate: str) -> tuple[int, int] | None:
    """``"10/s"`` → (10, 1); ``"1200/min"`` → (1200, 60); None when malformed (pure)."""
    count, _, period = rate.strip().partition("/")
    seconds = _PERIODS.get(period.strip().lower())
    if not count.strip().isdigit() or seconds is None or int(count) < 1:
        return None
    return int(count), seconds


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    now_us: int  # Redis's clock when the request was counted (or refused)
    retry_after: float  # seconds until a place frees (0 when allowed)


# KEYS[1] = window key; ARGV[1] = period (µs), ARGV[2] = limit, ARGV[3] = a unique member suffix.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local period = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, now .. '-' .. ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(period / 1000) + 1000)
  return {1, now, 0}
end
local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
return {0, now, oldest + period - now}
"""


def key_rate_acquire(ident: str, limit: int, period_seconds: int) -> RateDecision:
    """Count one request against ``ident``'s limit; refused when ``limit`` were accepted in the last period."""
    client = get_redis()
    script = client.register_script(_ACQUIRE)
    allowed, now_us, wait_us = script(
        keys=[redis_keys.API_RATE + ident], args=[period_seconds * 1_000_000, limit, uuid.uuid4().hex[:12]]
    )
    return RateDecision(bool(allowed), int(now_us), max(0.0, int(wait_us) / 1_000_000))
