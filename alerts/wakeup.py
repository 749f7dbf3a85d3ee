"""Wake-ups: one Celery message per burst of work, not one per request.

Whoever commits new work calls ``wake(kind)``: SET NX on the kind's flag, and
only the caller that set it sends a Celery message. A task clears the flag
*before* the claim that decides it may stop (``wake_clear``), so work
committed after that claim sets the flag again and is never stranded. A task
that keeps finding work may hold the flag (``wake_hold``) so that a steady
stream of requests sends no messages at all while it loops. A lost flag or
message costs latency only: the remediation sweeper re-wakes when work stays due.
"""

from __future__ import annotations

import logging
from enum import Enum

from redis.exceptions import RedisError

from mutt_project import redis_keys
from mutt_project.queues import Queue, TaskName
from mutt_project.redis_client import get_redis

log = logging.getLogger(__name__)

# The flag expires on its own so a flag whose message was lost cannot block
# wake-ups for ever (the sweeper would still cover it, later).
FLAG_TTL_SECONDS = 30


class WakeKind(Enum):
    CLASSIFY = (redis_keys.WAKE_CLASSIFY, TaskName.CLASSIFY_PENDING, Queue.CLASSIFY)
    FORWARD = (redis_keys.WAKE_FORWARD, TaskName.FORWARD_PENDING, Queue.FORWARD)

    @property
    def flag(self) -> str:
        return self.value[0]


def wake_send(kind: WakeKind) -> None:
    """Send the task message unconditionally (the sweeper, a task handing over)."""
    from mutt_project.celery import app

    _flag, task_name, queue = kind.value
    app.send_task(task_name.value, queue=queue.value)


def wake(kind: WakeKind, *, force: bool = False) -> bool:
    """Wake the workers of ``kind`` unless a wake-up is already on its way (``force``: in any case).

    Returns True when a message was sent. Never raises for Redis trouble: the
    work is in PostgreSQL and the sweeper will find it.
    """
    try:
        if force:
            get_redis().set(kind.flag, "1", ex=FLAG_TTL_SECONDS)
        elif not get_redis().set(kind.flag, "1", nx=True, ex=FLAG_TTL_SECONDS):
            return False
        wake_send(kind)
        return True
    except (RedisError, OSError) as exc:
        log.warning("wake-up %s not sent (%s); the sweeper will re-wake", kind.name, type(exc).__name__)
        return False
    except Exception as exc:  # kombu raises its own OperationalError family
        log.warning("wake-up %s not sent (%s); the sweeper will re-wake", kind.name, type(exc).__name__)
        return False


def wake_hold(kind: WakeKind) -> None:
    """Mark a wake-up as on its way (this task is looping): committers send no message meanwhile."""
    try:
        get_redis().set(kind.flag, "1", ex=FLAG_TTL_SECONDS)
    except (RedisError, OSError) as exc:
        log.warning("wake flag %s not held (%s)", kind.name, type(exc).__name__)


def wake_clear(kind: WakeKind) -> None:
    try:
        get_redis().delete(kind.flag)
    except (RedisError, OSError) as exc:
        log.warning("wake flag %s not cleared (%s)", kind.name, type(exc).__name__)
