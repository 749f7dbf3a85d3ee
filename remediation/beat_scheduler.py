"""The Beat scheduler every node runs: django-celery-beat's, scheduling only while it holds the leader lease.

``CELERY_BEAT_SCHEDULER`` names this class. A standby Beat ticks every
``BEAT_LEADER_POLL_SECONDS`` asking for the lease (``remediation.beat_leader``)
and sends nothing. On taking it, the new leader reads the schedule and every
entry's last run from the database (the old leader wrote them after each send,
``CELERY_BEAT_SYNC_EVERY``), so no entry is sent twice for one due time, and
sends the stale-work sweep at once: whatever the lost node left half done is
re-woken now rather than at the next minute.
"""

from __future__ import annotations

import logging
import socket

from django.conf import settings
from django_celery_beat.schedulers import DatabaseScheduler

from mutt_project.queues import Queue, TaskName
from remediation.beat_leader import LeaderLease

log = logging.getLogger(__name__)


class LeaderScheduler(DatabaseScheduler):
    """``DatabaseScheduler`` behind the leader lease: one Beat schedules, the others stand by."""

    def __init__(self, *args, **kwargs) -> None:
        self._lease = LeaderLease()
        self._leading = False
        super().__init__(*args, **kwargs)

    def tick(self, *args, **kwargs) -> float:
        if not self._lease.held():
            if self._leading:
                log.warning("beat: no longer the leader on %s; standing by", socket.gethostname())
                self._leading = False
            return settings.BEAT_LEADER_POLL_SECONDS
        if not self._leading:
            self._leading = True
            log.warning("beat: leader on %s; scheduling", socket.gethostname())
            self._take_over()
        return super().tick(*args, **kwargs)

    def _take_over(self) -> None:
        # Re-read entries and their last_run_at as the previous leader left them.
        self._initial_read = True
        self._heap = None
        self.app.send_task(TaskName.SWEEP_STALE.value, queue=Queue.MAINTENANCE.value, expires=55)
        log.info("beat: sent the takeover sweep (%s)", TaskName.SWEEP_STALE.value)

    def close(self) -> None:
        super().close()
        self._lease.release()
