"""The shared Moogsoft rate limit: one atomic Redis script, Redis server time.

Why a Lua script and not the ``limits`` library: ``limits`` answers "allowed
or not" (a fixed or moving window checked against the client's clock), so a
worker that is refused must poll, which is spinning under another name, and
its moving window lets a burst of N at the end of one window be followed by N
at the start of the next at the boundary of the caller's clock. Here each
caller *reserves* the next free slot (a GCRA-style "theoretical arrival time"
kept in one key, advanced by a fixed interval) and is told how long to sleep
until it: every slot is used while a backlog exists, nobody polls, and all
workers on all machines share one clock, Redis's ``TIME``.

The interval is ``(MOOG_RATE_PERIOD + MOOG_RATE_GUARD_SECONDS) / MOOG_RATE_LIMIT``.
Slots alone are not enough on a busy machine: a worker descheduled for a
while after its slot sends late, next to one that sends on time, and N+1
requests land in one window. So right before the POST a second script checks
the *actual* send times of the last ``period + guard`` (a sorted set holding
at most N entries) and records this one, or says how long to wait; that wait
is rare (only after such a delay) and is a sleep too. The guard absorbs
network jitter between our send and Moogsoft's clock.
"""

from __future__ import annotations

import functools
import itertools
import os
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from redis.commands.core import Script

from alerts.dynamic_config import runtime
from forwarding.metrics import MOOG_RATE_LIMIT_HITS
from mutt_project import redis_keys
from mutt_project.redis_client import get_redis

# KEYS[1] = next free slot (µs since the epoch, Redis clock)
# ARGV[1] = interval between slots (µs), ARGV[2] = longest acceptable wait (µs)
# Returns {reserved 0/1, wait µs}. A slot further away than the caller will
# wait is not reserved, so no slot is taken by a worker that then gives up.
_RESERVE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < now then slot = now end
local wait = slot - now
if wait > tonumber(ARGV[2]) then return {0, wait} end
local nxt = slot + interval
redis.call('SET', KEYS[1], string.format('%d', nxt), 'PX', math.floor((nxt - now) / 1000) + 1000)
return {1, wait}
"""


# KEYS[1] = sorted set of send times (µs, Redis clock)
# ARGV[1] = window (µs), ARGV[2] = limit, ARGV[3] = a unique member
# Returns 0 when this send is recorded, else µs until the oldest send leaves the window.
_SEND_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now - window))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], string.format('%d', now), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.floor(window / 1000) + 1000)
  return 0
end
local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
return math.max(oldest + window - now, 1)
"""

_send_ids = itertools.count()
_PROCESS_TOKEN = uuid.uuid4().hex[:8]  # pids repeat across machines


@functools.cache
def _script(client, source: str) -> Script:
    """The script object, built once (it hashes the source); later calls pass the current client."""
    return client.register_script(source)


@dataclass(frozen=True)
class Slot:
    reserved: bool
    wait: float  # seconds until the slot (or until the next free slot when not reserved)


def slot_interval() -> float:
    return (runtime("moog_rate_period") + settings.MOOG_RATE_GUARD_SECONDS) / runtime("moog_rate_limit")


def slot_reserve(max_wait: float) -> Slot:
    """Reserve the next send slot if it comes within ``max_wait`` seconds."""
    client = get_redis()
    reserved, wait_us = _script(client, _RESERVE_LUA)(
        keys=[redis_keys.RATE_LIMIT],
        args=[int(slot_interval() * 1_000_000), int(max(0.0, max_wait) * 1_000_000)],
        client=client,
    )
    return Slot(bool(reserved), wait_us / 1_000_000)


def events_wait(count: int, max_wait: float) -> bool:
    """Wait for room for ``count`` events under the optional ``MOOG_EVENTS_PER_SECOND`` cap.

    The same reservation script as the request slots, with the slot advanced
    by ``count / cap`` seconds: over any stretch the average stays at the cap;
    one batch may start the instant the previous one's allowance ends, so a
    single 1-s window can hold the cap plus one batch. False when the room
    comes later than ``max_wait`` (nothing is reserved then). True at once
    when no cap is set.
    """
    cap = settings.MOOG_EVENTS_PER_SECOND
    if cap <= 0:
        return True
    client = get_redis()
    reserved, wait_us = _script(client, _RESERVE_LUA)(
        keys=[redis_keys.RATE_LIMIT_EVENTS],
        args=[int(count / cap * 1_000_000), int(max(0.0, max_wait) * 1_000_000)],
        client=client,
    )
    if not reserved:
        return False
    if wait_us > 0:
        MOOG_RATE_LIMIT_HITS.inc()
        time.sleep(wait_us / 1_000_000)
    return True


def send_record() -> float:
    """Record a send now if the last window has room; else return the seconds to wait first."""
    client = get_redis()
    window_us = int((runtime("moog_rate_period") + settings.MOOG_RATE_GUARD_SECONDS) * 1_000_000)
    member = f"{os.getpid()}:{_PROCESS_TOKEN}:{next(_send_ids)}"
    wait_us = _script(client, _SEND_LUA)(
        keys=[redis_keys.RATE_LIMIT_SENT], args=[window_us, runtime("moog_rate_limit"), member], client=client
    )
    return wait_us / 1_000_000


def slot_wait(max_wait: float) -> bool:
    """Wait (sleeping) for a send slot; True once this process may send one request.

    False when no slot comes within ``max_wait`` (nothing is taken then).
    """
    slot = slot_reserve(max_wait)
    if not slot.reserved:
        return False
    if slot.wait > 0:
        MOOG_RATE_LIMIT_HITS.inc()
        time.sleep(slot.wait)
    while (wait := send_record()) > 0:
        time.sleep(wait)
    return True
