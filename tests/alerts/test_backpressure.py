"""Alerter backpressure from runtime settings: warn, shed to dead letters (dlq) or defer."""

from __future__ import annotations

import pytest

from alerts.backpressure import backlog_shed
from alerts.choices import BatchStatus, DeadLetterStage
from alerts.models import DeadLetter, IngestBatch
from tests.alerts.factories import make_batch, make_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def backlog():
    return [make_batch([make_event() for _ in range(10)]) for _ in range(3)]


def test_below_the_thresholds_nothing_happens(backlog, settings):
    settings.ALERTER_QUEUE_WARN_THRESHOLD, settings.ALERTER_QUEUE_SHED_THRESHOLD = 100, 200
    assert backlog_shed() == "ok"
    assert not DeadLetter.objects.exists()


def test_over_the_warn_threshold_it_only_warns(backlog, settings):
    settings.ALERTER_QUEUE_WARN_THRESHOLD, settings.ALERTER_QUEUE_SHED_THRESHOLD = 30, 200
    assert backlog_shed() == "warn"
    assert not DeadLetter.objects.exists()


def test_dlq_mode_parks_the_oldest_batches_as_classify_dead_letters(backlog, settings):
    settings.ALERTER_QUEUE_WARN_THRESHOLD, settings.ALERTER_QUEUE_SHED_THRESHOLD = 5, 30
    settings.ALERTER_SHED_MODE = "dlq"
    assert backlog_shed() == "shed_dlq"
    letters = DeadLetter.objects.order_by("batch_id")
    assert [d.batch_id for d in letters] == [b.id for b in backlog]
    assert all(d.stage == DeadLetterStage.CLASSIFY and len(d.payload["events"]) == 10 for d in letters)
    assert set(IngestBatch.objects.values_list("status", flat=True)) == {BatchStatus.DEAD}


def test_defer_mode_sheds_nothing(backlog, settings):
    settings.ALERTER_QUEUE_WARN_THRESHOLD, settings.ALERTER_QUEUE_SHED_THRESHOLD = 5, 30
    settings.ALERTER_SHED_MODE, settings.ALERTER_DEFER_SLEEP_MS = "defer", 0
    assert backlog_shed() == "shed_defer"
    assert not DeadLetter.objects.exists()
    assert set(IngestBatch.objects.values_list("status", flat=True)) == {BatchStatus.PENDING}
