"""Failure semantics of one forward slice (in this process, real PostgreSQL/Redis, the Moogsoft stand-in)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

import forwarding.client
from alerts.models import AlertOutbox, DeadLetter, EventAuditLog
from forwarding.circuit_breaker import breaker_status
from forwarding.services import outbox_forward, retry_delay
from mutt_project.version import VERSION
from tests.forwarding.factories import audited_outbox_row, outbox_rows

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def moog(settings, moog_sink, redis_client):
    settings.MOOG_WEBHOOK_URL = moog_sink.url
    settings.MOOG_RETRY_BASE_DELAY = 1.0
    settings.MOOG_RETRY_MAX_DELAY = 60.0
    forwarding.client._session = None  # the session caches auth headers
    yield moog_sink
    forwarding.client._session = None


def test_success_removes_the_row_and_marks_the_audit_row_sent(moog):
    audit, row = audited_outbox_row()

    result = outbox_forward(time_slice=5)

    assert result.sent == 1 and not AlertOutbox.objects.exists()
    audit = EventAuditLog.objects.get(id=audit.id)
    assert audit.forward_status == "sent" and audit.forwarded_at is not None


@pytest.mark.parametrize("status", [500, 503, 408, 429])
def test_transient_answer_counts_an_attempt_and_backs_off(moog, settings, status):
    settings.MOOG_RETRY_BASE_DELAY = 4.0  # first retry after 2-4 s: beyond this one-second slice
    moog.control(status=status)
    outbox_rows(1)

    before = timezone.now()
    outbox_forward(time_slice=1)
    after = timezone.now()

    row = AlertOutbox.objects.get()
    assert row.attempts == 1 and f"HTTP {status}" in row.last_error
    # The retry is 2-4 s after the answer came, and the answer came between before and after.
    assert before + timedelta(seconds=2) <= row.next_attempt_at <= after + timedelta(seconds=4)
    assert not DeadLetter.objects.exists()


def test_retry_after_is_honoured(moog):
    moog.control(status=429, retry_after=30)
    outbox_rows(1)

    before = timezone.now()
    outbox_forward(time_slice=1)
    after = timezone.now()

    next_attempt_at = AlertOutbox.objects.get().next_attempt_at
    assert before + timedelta(seconds=30) <= next_attempt_at <= after + timedelta(seconds=30)


def test_timeout_is_transient(moog, settings):
    settings.MOOG_TIMEOUT = 0.2
    moog.control(delay=0.5)
    outbox_rows(1)

    outbox_forward(time_slice=1)

    assert AlertOutbox.objects.get().last_error == "timeout"


def test_after_max_retries_the_alert_is_dead_lettered(moog, settings):
    settings.MOOG_MAX_RETRIES = 2
    moog.control(status=502)
    audit, row = audited_outbox_row()
    AlertOutbox.objects.filter(id=row.id).update(attempts=2)

    outbox_forward(time_slice=1)

    letter = DeadLetter.objects.get()
    assert (letter.stage, letter.response_status, letter.status) == ("forward", 502, "pending")
    assert "gave up after 3 attempts" in letter.last_error
    assert EventAuditLog.objects.get(id=audit.id).forward_status == "dead"


def test_4xx_is_not_a_breaker_failure(moog, settings):
    settings.MOOG_CIRCUIT_BREAKER_THRESHOLD = 2
    moog.control(status=404)
    outbox_rows(3)

    outbox_forward(time_slice=2)

    assert DeadLetter.objects.count() == 3
    assert breaker_status()["state"] == "closed"


def test_while_open_nothing_is_sent_and_no_attempt_counted(moog, settings):
    settings.MOOG_CIRCUIT_BREAKER_THRESHOLD = 2
    settings.MOOG_CIRCUIT_BREAKER_TIMEOUT = 60
    moog.control(status=503)
    outbox_rows(2)
    outbox_forward(time_slice=1)  # both fail: the breaker opens
    assert breaker_status()["state"] == "open"
    AlertOutbox.objects.update(next_attempt_at=timezone.now())
    moog.clear()

    outbox_forward(time_slice=1)

    assert moog.received() == []
    assert list(AlertOutbox.objects.values_list("attempts", flat=True)) == [1, 1]


def test_api_key_header_and_basic_auth_are_sent(moog, settings):
    settings.MOOG_API_KEY, settings.MOOG_API_KEY_HEADER = "s3cret", "X-API-Key"
    outbox_rows(1)
    outbox_forward(time_slice=2)
    assert moog.received()[0]["headers"]["X-API-Key"] == "s3cret"
    assert moog.received()[0]["headers"]["User-Agent"] == f"MUTT/{VERSION}"

    forwarding.client._session = None
    settings.MOOG_API_KEY, settings.MOOG_USERNAME, settings.MOOG_PASSWORD = "", "mutt", "pw"
    outbox_rows(1)
    outbox_forward(time_slice=2)
    assert moog.received()[1]["headers"]["Authorization"].startswith("Basic ")


def test_backoff_grows_and_is_capped(settings):
    settings.MOOG_RETRY_BASE_DELAY, settings.MOOG_RETRY_MAX_DELAY = 1.0, 60.0
    assert 0.5 <= retry_delay(1) <= 1 and 4 <= retry_delay(4) <= 8
    assert retry_delay(20) == 60
    assert retry_delay(1, retry_after=30) == 30
