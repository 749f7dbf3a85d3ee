"""The Moogsoft circuit breaker, shared by every forward worker through Redis.

CLOSED → OPEN after ``MOOG_CIRCUIT_BREAKER_THRESHOLD`` consecutive transient
failures → HALF_OPEN after ``MOOG_CIRCUIT_BREAKER_TIMEOUT`` seconds, where the
one worker that takes the probe lock (SET NX PX with its token) sends one
alert: success closes, failure re-opens. Each transition is one Lua script
using Redis ``TIME``, so workers on machines with skewed clocks agree and two
workers can never both move the state (or both probe).

4xx answers prove Moogsoft is up: they count as success here (not a failure).
Rate-limit waits never reach the breaker.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from redis.commands.core import Script

from alerts.dynamic_config import runtime
from forwarding.metrics import MOOG_CIRCUIT_OPENS, MOOG_CIRCUIT_STATE, MOOG_CIRCUIT_TRANSITIONS
from mutt_project import redis_keys
from mutt_project.redis_client import get_redis


class BreakerState(StrEnum):
    CLOSED = "closed"
    HALF_OPEN = "half_open"
    OPEN = "open"


# The reference's encoding: 0 closed, 1 open, 2 half-open.
_GAUGE = {BreakerState.CLOSED: 0, BreakerState.OPEN: 1, BreakerState.HALF_OPEN: 2}

# KEYS: state, failures, opened_at (ms), probe lock
# ARGV: op (acquire|success|failure), token, threshold, open timeout (ms), probe lock ttl (ms)
# Returns {verdict, number}:
#   acquire → {"closed", failures} send; {"probe", 0} send as the probe; {"open", ms} wait that long
#   success → {"closed", 1 if this call closed the breaker else 0}
#   failure → {state after, consecutive failures}, or {"open", timeout ms} when this call opened it
_BREAKER_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('GET', KEYS[1]) or 'closed'
local op, token = ARGV[1], ARGV[2]
local threshold, timeout = tonumber(ARGV[3]), tonumber(ARGV[4])

local function open()
  redis.call('SET', KEYS[1], 'open')
  redis.call('SET', KEYS[3], string.format('%d', now))
  if redis.call('GET', KEYS[4]) == token then redis.call('DEL', KEYS[4]) end
  return {'open', timeout}
end

if op == 'acquire' then
  if state == 'closed' then return {'closed', tonumber(redis.call('GET', KEYS[2]) or '0')} end
  if state == 'open' then
    local elapsed = now - tonumber(redis.call('GET', KEYS[3]) or '0')
    if elapsed < timeout then return {'open', timeout - elapsed} end
    redis.call('SET', KEYS[1], 'half_open')
  end
  if redis.call('SET', KEYS[4], token, 'NX', 'PX', ARGV[5]) then return {'probe', 0} end
  -- another worker's probe is in flight: look again soon (at most a second)
  return {'open', math.min(math.max(redis.call('PTTL', KEYS[4]), 50), 1000)}
elseif op == 'success' then
  local moved = 0
  if state ~= 'closed' then
    redis.call('SET', KEYS[1], 'closed')
    redis.call('DEL', KEYS[3])
    moved = 1
  end
  if (redis.call('GET', KEYS[2]) or '0') ~= '0' then redis.call('SET', KEYS[2], '0') end
  if redis.call('GET', KEYS[4]) == token then redis.call('DEL', KEYS[4]) end
  return {'closed', moved}
else
  if state == 'half_open' then
    if redis.call('GET', KEYS[4]) == token then return open() end
    return {state, 0}  -- an answer to a request sent before the breaker opened
  end
  if state == 'open' then return {state, 0} end
  local failures = redis.call('INCR', KEYS[2])
  if failures >= threshold then
    redis.call('SET', KEYS[2], '0')
    return open()
  end
  return {'closed', failures}
end
"""


@functools.cache
def _script(client) -> Script:
    """The script object, built once (it hashes the source); later calls pass the current client."""
    return client.register_script(_BREAKER_LUA)


_KEYS = [redis_keys.CB_STATE, redis_keys.CB_FAILURES, redis_keys.CB_OPENED_AT, redis_keys.CB_PROBE_LOCK]


@dataclass(frozen=True)
class Verdict:
    verdict: str  # closed | probe | open
    wait: float  # seconds to wait when open

    @property
    def may_send(self) -> bool:
        return self.verdict != "open"


class CircuitBreaker:
    """One worker's handle on the shared breaker; its token identifies its probe lock."""

    def __init__(self) -> None:
        self.token = uuid.uuid4().hex
        # Closed with no failures at the last acquire: a success then has
        # nothing to reset, so it skips its Redis round trip (one per alert).
        self._clean = False

    def _run(self, op: str) -> list:
        client = get_redis()
        probe_ttl_ms = int((settings.MOOG_TIMEOUT + 5) * 1000)  # a crashed prober frees the lock
        return _script(client)(
            keys=_KEYS,
            args=[
                op,
                self.token,
                runtime("moog_circuit_breaker_threshold"),
                runtime("moog_circuit_breaker_timeout") * 1000,
                probe_ttl_ms,
            ],
            client=client,
        )

    def acquire(self) -> Verdict:
        """May this worker send now? ``probe`` means it is the one half-open probe."""
        verdict, number = self._run("acquire")
        self._clean = verdict == "closed" and number == 0
        if verdict == "probe":
            MOOG_CIRCUIT_STATE.set(_GAUGE[BreakerState.HALF_OPEN])
            MOOG_CIRCUIT_TRANSITIONS.labels(BreakerState.HALF_OPEN.value).inc()
        return Verdict(verdict, number / 1000 if verdict == "open" else 0.0)

    def record_success(self) -> None:
        if self._clean:
            return
        _state, closed_now = self._run("success")
        MOOG_CIRCUIT_STATE.set(_GAUGE[BreakerState.CLOSED])
        if closed_now:
            MOOG_CIRCUIT_TRANSITIONS.labels(BreakerState.CLOSED.value).inc()

    def record_failure(self) -> str:
        self._clean = False
        state, number = self._run("failure")
        MOOG_CIRCUIT_STATE.set(_GAUGE[BreakerState(state)])
        if state == BreakerState.OPEN and number > 0:  # this call opened it (or re-opened after the probe)
            MOOG_CIRCUIT_OPENS.inc()
            MOOG_CIRCUIT_TRANSITIONS.labels(BreakerState.OPEN.value).inc()
        return state


def breaker_status() -> dict:
    """State, consecutive failures and opened-at (epoch seconds or None), for the dashboard."""
    state, failures, opened_at = get_redis().mget(_KEYS[:3])
    status = {
        "state": state or BreakerState.CLOSED.value,
        "failures": int(failures or 0),
        "opened_at": int(opened_at) / 1000 if opened_at else None,
    }
    MOOG_CIRCUIT_STATE.set(_GAUGE[BreakerState(status["state"])])
    return status


def breaker_force_closed() -> None:
    """Closed, no failures, no probe in flight: what an operator's reset means (remediation.operator_actions)."""
    get_redis().delete(*_KEYS)
    MOOG_CIRCUIT_STATE.set(_GAUGE[BreakerState.CLOSED])
    MOOG_CIRCUIT_TRANSITIONS.labels(BreakerState.CLOSED.value).inc()
