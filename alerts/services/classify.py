"""The classify task's loop: claim, commit, repeat until no work is left or the time slice is used.

The pieces, one module each: ``claiming`` (lease SQL), ``staging`` (pure:
event + decision -> staged line), ``committing`` (one transaction: COPY, the
move statement, dead letters, meta-alerts). Wake-ups are ``alerts.wakeup``'s.
docs/architecture.md, "Classify" and "Wake-ups".
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from alerts.services.claiming import batches_claim
from alerts.services.committing import ClassifyResult, batches_process
from alerts.wakeup import WakeKind, wake, wake_clear, wake_hold


def batches_classify(*, time_slice: float | None = None) -> ClassifyResult:
    """Claim and classify pending batches until none is left or the time slice is used.

    Wake-up protocol (see ``alerts.wakeup``): while this task keeps finding
    work it holds the wake flag, so a steady stream of requests sends no
    Celery messages; it clears the flag *before* the claim that lets it stop,
    so a batch committed after that claim wakes a classifier again. A claim
    that hits the size cap recruits another worker (the backlog is large);
    at the end of the slice the task hands over with a forced wake-up.
    After a claim finds nothing it lingers ``CLASSIFY_LINGER_SECONDS`` (a
    handful of claims) before it lets go, if it has had work.
    """
    slice_seconds = settings.CLASSIFY_TIME_SLICE_SECONDS if time_slice is None else time_slice
    deadline = timezone.now() + timedelta(seconds=slice_seconds)
    total = ClassifyResult()
    wake_hold(WakeKind.CLASSIFY)
    idle_since: float | None = None
    while True:
        batches, more = batches_claim(max_events=settings.CLASSIFY_MAX_EVENTS_PER_CLAIM)
        if not batches:
            # In a busy period, look again a few times before stopping: a gap of
            # a few milliseconds between requests must not cost a Celery round
            # trip (a new message, a new task) for the next event.
            now = time.monotonic()
            idle_since = idle_since or now
            if total.batches and now - idle_since < settings.CLASSIFY_LINGER_SECONDS:
                time.sleep(settings.CLASSIFY_LINGER_SECONDS / 10)
                continue
            wake_clear(WakeKind.CLASSIFY)
            batches, more = batches_claim(max_events=settings.CLASSIFY_MAX_EVENTS_PER_CLAIM)
            if not batches:
                break
            wake_hold(WakeKind.CLASSIFY)  # work arrived in between: keep looping
        idle_since = None
        if more:
            wake(WakeKind.CLASSIFY, force=True)  # a backlog: let an idle worker take the next claim
        total.add(batches_process(batches=batches))
        if timezone.now() >= deadline:
            total.more = True
            wake(WakeKind.CLASSIFY, force=True)
            break
    return total
