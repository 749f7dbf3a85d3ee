"""Per-rule hit counts and last-matched time, in Redis (a statistic: losing it loses no event)."""

from __future__ import annotations

import time

from mutt_project import redis_keys
from mutt_project.redis_client import get_redis


def rule_hits_record(hits: dict[int, int], now: float | None = None) -> None:
    """Add one batch's hits: one pipelined round trip. Raises ``RedisError``."""
    if not hits:
        return
    stamp = int(now if now is not None else time.time())
    pipe = get_redis().pipeline(transaction=False)
    for rule_id, count in hits.items():
        pipe.hincrby(redis_keys.RULE_HITS, str(rule_id), count)
    pipe.hset(redis_keys.RULE_LAST_MATCH, mapping={str(rule_id): stamp for rule_id in hits})
    pipe.execute()


def rule_stats_all() -> dict[int, tuple[int, int | None]]:
    """rule id -> (hits, last matched epoch seconds). Raises ``RedisError``."""
    pipe = get_redis().pipeline(transaction=False)
    pipe.hgetall(redis_keys.RULE_HITS)
    pipe.hgetall(redis_keys.RULE_LAST_MATCH)
    hits, last = pipe.execute()
    return {
        int(rule_id): (int(count), int(last[rule_id]) if rule_id in last else None) for rule_id, count in hits.items()
    }
