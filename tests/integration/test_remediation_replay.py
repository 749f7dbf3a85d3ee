"""Dead-letter replay: backoff 2^n, poisoned after MAX_DLQ_RETRIES, only while Moogsoft is healthy."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from alerts.models import DeadLetter, IngestBatch
from remediation.dead_letters import dead_letters_replay_due
from tests.forwarding.factories import alert_payload

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def forward_letter(**kw) -> DeadLetter:
    payload = alert_payload()
    return DeadLetter.objects.create(
        stage="forward", correlation_id=payload["correlation_id"], payload=payload, next_attempt_at=timezone.now(), **kw
    )


@override_settings(MAX_DLQ_RETRIES=5)
def test_letter_that_keeps_failing_is_poisoned_with_growing_gaps(redis_client, moog_sink, settings):
    settings.MOOG_WEBHOOK_URL = moog_sink.url
    moog_sink.control(status=422)  # Moogsoft is up (health probe passes) but refuses this alert
    letter = forward_letter()
    clock = timezone.now()
    gaps = []

    for _ in range(10):
        dead_letters_replay_due(now=clock)
        letter.refresh_from_db()
        if letter.status != "pending":
            break
        gaps.append((letter.next_attempt_at - clock).total_seconds())
        assert not dead_letters_replay_due(now=letter.next_attempt_at - timedelta(seconds=1)).results  # not yet
        clock = letter.next_attempt_at

    assert (letter.status, letter.attempts, letter.response_status) == ("poisoned", 5, 422)
    assert gaps == [2, 4, 8, 16]
    assert len(moog_sink.received()) == 5
    dead_letters_replay_due(now=clock + timedelta(days=1))
    assert len(moog_sink.received()) == 5  # a poisoned letter waits for an operator


@override_settings(DLQ_BACKOFF_MAX_SECONDS=3600)
def test_backoff_is_capped_at_an_hour(redis_client, moog_sink, settings):
    settings.MOOG_WEBHOOK_URL = moog_sink.url
    moog_sink.control(status=422)
    letter = forward_letter(attempts=13)
    with override_settings(MAX_DLQ_RETRIES=50):
        dead_letters_replay_due()
    letter.refresh_from_db()
    assert letter.next_attempt_at - letter.updated_at == pytest.approx(timedelta(hours=1), abs=timedelta(seconds=5))


def test_nothing_is_replayed_while_moogsoft_is_down(redis_client, moog_sink, settings):
    settings.MOOG_WEBHOOK_URL = moog_sink.url
    moog_sink.control(status=503)
    letter = forward_letter()

    run = dead_letters_replay_due()

    assert run.skipped_unhealthy
    letter.refresh_from_db()
    assert (letter.status, letter.attempts) == ("pending", 0)
    assert moog_sink.received() == []  # the health probe is a GET, never an alert
    moog_sink.control()
    dead_letters_replay_due()
    letter.refresh_from_db()
    assert letter.status == "replayed"
    assert [r["body"]["external_id"] for r in moog_sink.received()] == [str(letter.correlation_id)]


def test_classify_dead_letters_go_back_to_the_inbox(redis_client, moog_sink, settings):
    settings.MOOG_WEBHOOK_URL = moog_sink.url
    event = {
        "timestamp": "2026-01-01T00:00:00+00:00",
        "hostname": "h1",
        "message": "m",
        "correlation_id": "7c0e6f3e-8f1a-4a53-9a55-5b8f4d2f0a11",
    }
    whole = DeadLetter.objects.create(
        stage="classify", batch_id=1, payload={"batch_id": 1, "events": [event] * 2}, next_attempt_at=timezone.now()
    )
    single = DeadLetter.objects.create(
        stage="classify", payload={"event": event, "batch_id": 1}, next_attempt_at=timezone.now()
    )

    call_command("replay_dead_letters", "--stage", "classify", "--dry-run")
    assert IngestBatch.objects.count() == 0
    call_command("replay_dead_letters", "--stage", "classify")

    assert sorted(IngestBatch.objects.values_list("event_count", flat=True)) == [1, 2]
    assert set(DeadLetter.objects.filter(pk__in=[whole.pk, single.pk]).values_list("status", flat=True)) == {"replayed"}


# ---- the v2.5 replay knobs: DLQ_BATCH_SIZE, MOOG_HEALTH_CHECK_ENABLED, REMEDIATION_INTERVAL_SECONDS ----


def test_health_check_off_lets_the_breaker_alone_decide(redis_client, moog_sink, settings):
    settings.MOOG_WEBHOOK_URL = moog_sink.url
    settings.MOOG_HEALTH_CHECK_ENABLED = False
    moog_sink.control(status=503)  # a health GET would say "down"
    letter = forward_letter()

    run = dead_letters_replay_due()

    assert not run.skipped_unhealthy
    letter.refresh_from_db()
    assert (letter.status, letter.attempts) == ("pending", 1)  # tried, failed, backs off
    assert len(moog_sink.received()) == 1


def test_a_run_replays_at_most_dlq_batch_size_letters(redis_client, settings):
    settings.DLQ_BATCH_SIZE = 2
    letters = [forward_letter() for _ in range(3)]
    run = dead_letters_replay_due(dry_run=True)
    assert len(run.would_replay) == 2 and set(run.would_replay) < {letter.pk for letter in letters}


def test_remediation_interval_sets_the_replay_schedule():
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "e = settings.CELERY_BEAT_SCHEDULE['replay-dead-letters']; "
        "print(e['schedule'].total_seconds(), e['options']['expires'])"
    )
    env = os.environ | {"REMEDIATION_INTERVAL_SECONDS": "30", "DJANGO_SETTINGS_MODULE": "mutt_project.settings"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    interval, expires = out.split()
    assert float(interval) == 30.0 and 0 < int(expires) < 30
