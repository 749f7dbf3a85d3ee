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

What MUTT promises, and what the second script keeps: **at most N requests
reach Moogsoft in any rolling period**, counted where Moogsoft counts them
(at arrival), however late a worker is descheduled. Slots alone cannot keep
that on a busy machine: a worker that sleeps past its slot, or that is
descheduled between deciding to send and writing the request, sends next to
one that is on time. So right before the POST, ``send_record`` enters the
request in a window kept in Redis (a sorted set holding at most N entries)
*as in flight*, scored by the latest moment it can finish (now +
``MOOG_TIMEOUT``); when the answer (or the error) comes back, ``permit.finish``
re-scores it with the moment it finished. An entry leaves the window one
period (+ guard) after its score. A send is allowed only while fewer than N
entries are in the window.

Why that bounds arrivals: a request arrives after its entry was recorded and
before its answer came back. Take any N+1 arrivals within one period and the
one whose entry was recorded last: at that moment each of the other N had
been recorded, and each was either still in flight or had finished after its
own arrival, so within one period of it: all N were in the window and the
last one could not have been sent. The price is that a request occupies its
place for its latency plus one period: at 50 ms latency and a limit of 50 per
second, ~48 requests a second are sent. A refused sender sleeps until the
oldest finished entry leaves the window, or polls briefly while all of them
are in flight. The guard adds margin for clock jitter between the Redis host
and Moogsoft's.
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


# KEYS[1] = sorted set: member per request, score = when it finished, or the latest it can
#           finish while it is in flight (µs, Redis clock)
# ARGV[1] = window (µs), ARGV[2] = limit, ARGV[3] = a unique member,
# ARGV[4] = how long an in-flight request may take (µs), ARGV[5] = longest poll while all are in flight (µs)
# Returns 0 when this send is recorded (as in flight), else µs to wait before asking again.
_SEND_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('(%d', now - window))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  local flight = tonumber(ARGV[4])
  redis.call('ZADD', KEYS[1], string.format('%d', now + flight), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.floor((flight + window) / 1000) + 1000)
  return 0
end
local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
if oldest > now then return tonumber(ARGV[5]) end
return math.max(oldest + window - now, 1)
"""

# KEYS[1] = the same sorted set; ARGV[1] = the member; ARGV[2] = 1 if the request was sent, 0 if not.
# A sent request is re-scored with the moment it finished (only if it is still there: XX);
# one that was never sent gives its place back.
_FINISH_LUA = """
if ARGV[2] == '0' then return redis.call('ZREM', KEYS[1], ARGV[1]) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
return redis.call('ZADD', KEYS[1], 'XX', string.format('%d', now), ARGV[1])
"""

# While every request in the window is in flight, a refused sender asks again this often.
_IN_FLIGHT_POLL_SECONDS = 0.01

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


@dataclass(frozen=True)
class SendPermit:
    """One request's place in the window: ``finish(sent=...)`` once its answer or error is back."""

    member: str

    def finish(self, *, sent: bool = True) -> None:
        client = get_redis()
        _script(client, _FINISH_LUA)(keys=[redis_keys.RATE_LIMIT_SENT], args=[self.member, int(sent)], client=client)


def send_record() -> SendPermit | float:
    """Enter a send now (as in flight) if the window has room: its permit; else the seconds to wait first."""
    client = get_redis()
    window_us = int((runtime("moog_rate_period") + settings.MOOG_RATE_GUARD_SECONDS) * 1_000_000)
    member = f"{os.getpid()}:{_PROCESS_TOKEN}:{next(_send_ids)}"
    wait_us = _script(client, _SEND_LUA)(
        keys=[redis_keys.RATE_LIMIT_SENT],
        args=[
            window_us,
            runtime("moog_rate_limit"),
            member,
            int((settings.MOOG_TIMEOUT + 1.0) * 1_000_000),  # the request's own timeout, plus its set-up
            int(_IN_FLIGHT_POLL_SECONDS * 1_000_000),
        ],
        client=client,
    )
    return SendPermit(member) if wait_us == 0 else wait_us / 1_000_000


def slot_wait(max_wait: float) -> SendPermit | None:
    """Wait (sleeping) for a send slot and a place in the window; the permit once this process may send
    one request (call ``permit.finish()`` when it is done, ``finish(sent=False)`` if it was not sent).

    None when no slot comes within ``max_wait`` (nothing is taken then).
    """
    slot = slot_reserve(max_wait)
    if not slot.reserved:
        return None
    if slot.wait > 0:
        MOOG_RATE_LIMIT_HITS.inc()
        time.sleep(slot.wait)
    while not isinstance(permit := send_record(), SendPermit):
        time.sleep(permit)
    return permit
