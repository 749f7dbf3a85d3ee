"""Flushing Redis while alerts are due loses none: the sweeper re-wakes the forwarders."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import AlertOutbox
from alerts.wakeup import WakeKind, wake
from mutt_project.celery import app
from mutt_project.queues import Queue, TaskName
from remediation.tasks import sweep_stale
from tests.conftest import wait_for
from tests.forwarding.factories import outbox_rows

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_alerts_due_when_redis_is_flushed_are_delivered_after_the_sweep(workers, moog_sink, redis_client):
    expected = {str(r.correlation_id) for r in outbox_rows(30)}
    AlertOutbox.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=2))
    wake(WakeKind.FORWARD)
    redis_client.flushall()  # the wake-up message and its flag are gone

    # What is left: the alerts in PostgreSQL, overdue, and no wake-up anywhere.
    assert AlertOutbox.objects.filter(next_attempt_at__lt=timezone.now()).count() == 30
    assert redis_client.dbsize() == 0

    workers.start("forward")
    workers.start("maintenance")
    app.send_task(TaskName.SWEEP_STALE.value, queue=Queue.MAINTENANCE.value)  # Beat's sweep finds them

    wait_for(
        lambda: {r["body"]["external_id"] for r in moog_sink.received(accepted_only=True)} == expected,
        timeout=60,
        interval=0.3,
        message="every alert delivered",
    )
    wait_for(lambda: not AlertOutbox.objects.exists(), message="outbox emptied")


def test_a_second_beat_does_no_double_work(redis_client):
    outbox_rows(1)
    AlertOutbox.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=2))

    first, second = sweep_stale(), sweep_stale()  # the same minute's message from two Beats

    assert first == {"stale_batches": 0, "stale_outbox": 1}
    assert second == {"skipped": "another run holds the beat lock"}
