"""A short Redis lock per periodic task: the second line of defence against a job sent twice.

Only the Beat holding the leader lock schedules (``remediation.beat_leader``);
two can overlap for a moment, while a leader cut off from PostgreSQL has not
yet noticed it lost the lock. Then both send the same message at the same minute; the first run takes the
lock (SET NX EX, kept until it expires, shorter than the task's period) and
the duplicate finds it held and does nothing. Without Redis the task runs
anyway: every job here is idempotent and claims its rows with SKIP LOCKED, so
running twice costs work, never correctness, while skipping could cost healing.
"""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from mutt_project import redis_keys
from mutt_project.redis_client import get_redis

log = logging.getLogger(__name__)


def beat_lock_take(task_name: str, ttl_seconds: int) -> bool:
    """True when this run should do the work."""
    try:
        return bool(get_redis().set(redis_keys.BEAT_LOCK + task_name, "1", nx=True, ex=ttl_seconds))
    except (RedisError, OSError) as exc:
        log.warning("beat lock for %s unavailable (%s); running anyway", task_name, type(exc).__name__)
        return True
