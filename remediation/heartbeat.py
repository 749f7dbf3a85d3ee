"""Worker queue heartbeats: the proof, per queue, that some worker still takes its messages."""

from __future__ import annotations

import time

from mutt_project import redis_keys
from mutt_project.redis_client import get_redis

_HEARTBEAT_TTL = 3600  # an old stamp still says "stale since"; it need not live forever


def queue_heartbeat_record(queue: str, now: float | None = None) -> None:
    get_redis().set(f"{redis_keys.QUEUE_HEARTBEAT}{queue}", now if now is not None else time.time(), ex=_HEARTBEAT_TTL)
