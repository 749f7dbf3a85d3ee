"""Work is waiting in PostgreSQL: wake a worker. The one place that knows how.

PostgreSQL holds the work (inbox batches, outbox rows); a Celery message only
says "look". This module owns the whole hand-over for both stages, classify
and forward (docs/architecture.md, "Wake-ups"):

- whoever commits new work calls ``wake(kind)``: SET NX on the stage's flag,
  and only the caller that set it sends a Celery message, so a burst of
  commits sends one message, not one per request;
- a task clears the flag *before* the claim that lets it stop
  (``wake_clear``), so work committed after that claim sets the flag again
  and is never stranded;
- a task that keeps finding work holds the flag (``wake_hold``) so a steady
  stream of commits sends no messages at all while it loops;
- ``wake(kind, force=True)`` hands over or recruits another worker whatever
  the flag says; ``wake_later`` sends one delayed message for work that is
  due later (a retry in backoff), deduplicated across workers;
- ``wake_stale`` is the sweeper's: work stayed due past the grace period.

One failure policy: a wake-up that cannot be sent (Redis or the broker
unreachable) is logged, counted in ``mutt_wakeups_not_sent_total`` and
otherwise ignored. The work is committed; the remediation sweeper finds work
that stays due past ``SWEEP_GRACE_SECONDS`` and wakes the stage again, so a
lost wake-up costs latency, never an event.

No other module knows the flag key names.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from enum import Enum

from django.conf import settings
from django.db import transaction
from kombu.exceptions import KombuError
from redis.client import Pipeline
from redis.exceptions import RedisError

from alerts.metrics import WAKEUPS_NOT_SENT
from mutt_project import redis_keys
from mutt_project.queues import Queue, TaskName
from mutt_project.redis_client import get_redis

log = logging.getLogger(__name__)

# The flag expires on its own, so a flag whose message was lost cannot block
# wake-ups for ever (the sweeper would still cover it, later).
FLAG_TTL_SECONDS = 30

# Redis unreachable, or the broker (Redis too, through kombu) refusing the message.
_SEND_FAILURES = (RedisError, OSError, KombuError)

PipelineExtra = Callable[[Pipeline], None]


class WakeKind(Enum):
    """A stage whose work waits in PostgreSQL: its flag, later-flag, task and queue."""

    CLASSIFY = (redis_keys.WAKE_CLASSIFY, redis_keys.WAKE_CLASSIFY_LATER, TaskName.CLASSIFY_PENDING, Queue.CLASSIFY)
    FORWARD = (redis_keys.WAKE_FORWARD, redis_keys.WAKE_FORWARD_LATER, TaskName.FORWARD_PENDING, Queue.FORWARD)

    @property
    def flag(self) -> str:
        return self.value[0]

    @property
    def later_flag(self) -> str:
        return self.value[1]

    @property
    def task_name(self) -> str:
        return self.value[2].value

    @property
    def queue(self) -> str:
        return self.value[3].value


def _not_sent(kind: WakeKind, what: str, exc: Exception) -> None:
    """The one failure policy: log, count, carry on (the sweeper's grace period covers it)."""
    WAKEUPS_NOT_SENT.labels(stage=kind.name.lower()).inc()
    log.warning("%s %s not done (%s); the sweeper will re-wake", kind.name.lower(), what, type(exc).__name__)


def _send(kind: WakeKind, countdown: float | None = None) -> None:
    from mutt_project.celery import app  # the Celery app imports every app's tasks

    app.send_task(kind.task_name, queue=kind.queue, countdown=countdown)


def wake(kind: WakeKind, *, force: bool = False, pipeline_extra: PipelineExtra | None = None) -> bool:
    """New work of ``kind`` is committed: send a message unless one is already on its way.

    ``force``: send in any case (a task handing over, or recruiting a second
    worker for a backlog). ``pipeline_extra`` adds commands to the same Redis
    round trip (ingest's counters ride along). Returns False when Redis or the
    broker could not be reached (never raises for that).
    """
    try:
        pipe = get_redis().pipeline(transaction=False)
        if force:
            pipe.set(kind.flag, "1", ex=FLAG_TTL_SECONDS)
        else:
            pipe.set(kind.flag, "1", nx=True, ex=FLAG_TTL_SECONDS)
        if pipeline_extra is not None:
            pipeline_extra(pipe)
        if pipe.execute()[0]:
            _send(kind)
        return True
    except _SEND_FAILURES as exc:
        _not_sent(kind, "wake-up", exc)
        return False


def wake_on_commit(kind: WakeKind) -> None:
    """``wake(kind)`` once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: wake(kind))


def wake_later(kind: WakeKind, *, delay: float) -> None:
    """One delayed message for work due in ``delay`` seconds (deduplicated across workers).

    Clamped to at least a second and to half the broker's visibility timeout
    (a longer countdown would be redelivered early by the broker).
    """
    delay = min(max(delay, 1.0), settings.CELERY_VISIBILITY_TIMEOUT / 2)
    try:
        if get_redis().set(kind.later_flag, "1", nx=True, ex=math.ceil(delay)):
            _send(kind, countdown=delay)
    except _SEND_FAILURES as exc:
        _not_sent(kind, "delayed wake-up", exc)


def wake_stale(kind: WakeKind) -> None:
    """The sweeper's wake-up: work stayed due past the grace period, send whatever the flag says."""
    try:
        _send(kind)
    except _SEND_FAILURES as exc:
        _not_sent(kind, "sweeper wake-up", exc)


def wake_hold(kind: WakeKind) -> None:
    """This task is looping: committers see a wake-up on its way and send no message meanwhile."""
    try:
        get_redis().set(kind.flag, "1", ex=FLAG_TTL_SECONDS)
    except _SEND_FAILURES as exc:
        _not_sent(kind, "flag hold", exc)


def wake_clear(kind: WakeKind) -> None:
    """This task may stop after its next claim: work committed from now on wakes a worker again."""
    try:
        get_redis().delete(kind.flag)
    except _SEND_FAILURES as exc:
        _not_sent(kind, "flag clear", exc)
