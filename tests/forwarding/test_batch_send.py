"""Batched sends in one forward slice (in this process, real PostgreSQL/Redis, the Moogsoft stand-in)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

import forwarding.client
from alerts.models import AlertOutbox, DeadLetter
from forwarding.outbox_stats import outbox_class_stats
from forwarding.services import outbox_forward
from tests.forwarding.factories import outbox_rows, outbox_seed

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def moog(settings, moog_sink, redis_client):
    settings.MOOG_WEBHOOK_URL = moog_sink.url
    settings.MOOG_BATCH_SIZE = 10
    settings.MOOG_RATE_LIMIT = 200
    forwarding.client._session = None
    yield moog_sink
    forwarding.client._session = None


def test_a_batch_is_one_request_and_every_alert_in_it_is_sent(moog):
    rows = outbox_rows(25, handling="Ticket_only")

    result = outbox_forward(time_slice=5)

    records = moog.received()
    assert result.sent == 25 and not AlertOutbox.objects.exists()
    assert sorted(r["body"]["external_id"] for r in records) == sorted(str(r.correlation_id) for r in rows)
    assert sorted(len([x for x in records if x["request"] == n]) for n in {r["request"] for r in records}) == [
        5,
        10,
        10,
    ]


def test_a_5xx_retries_the_whole_batch_with_backoff(moog, settings):
    settings.MOOG_RETRY_BASE_DELAY = 4.0  # beyond this one-second slice
    moog.control(status=503)
    outbox_rows(10, handling="Ticket_only")

    result = outbox_forward(time_slice=1)

    assert result.retried == 10 and len(moog.received()) == 10  # one request, ten events
    assert len({r["request"] for r in moog.received()}) == 1
    assert set(AlertOutbox.objects.values_list("attempts", flat=True)) == {1}
    assert not DeadLetter.objects.exists()


def test_two_refused_alerts_are_isolated_and_the_rest_delivered(moog):
    rows = outbox_rows(10, handling="Ticket_only")
    refused = {str(rows[2].correlation_id), str(rows[7].correlation_id)}
    moog.control(refuse=sorted(refused))

    result = outbox_forward(time_slice=5)

    accepted = [r["body"]["external_id"] for r in moog.received(accepted_only=True)]
    assert sorted(accepted) == sorted({str(r.correlation_id) for r in rows} - refused)
    assert {str(d.correlation_id) for d in DeadLetter.objects.all()} == refused
    assert (result.sent, result.dead) == (8, 2)


def test_outbox_admin_shows_each_class_with_depth_and_drain_time(client, settings, redis_client):
    settings.MOOG_RATE_LIMIT = 20
    settings.MOOG_BATCH_SIZE = 1
    outbox_seed(400, "Ticket_only", waited=90)
    outbox_rows(2, handling="Page_only")
    user = get_user_model().objects.create_superuser("oncall", "oncall@example.com", "pw")
    client.force_login(user)

    stats = {s.label: s for s in outbox_class_stats()}
    page = client.get("/admin/alerts/alertoutbox/").content.decode()

    assert (stats["Page_and_ticket+Page_only"].depth, stats["Ticket_only"].depth, stats["other"].depth) == (2, 400, 0)
    assert stats["Ticket_only"].oldest_age >= 90
    assert stats["Ticket_only"].drain_seconds == pytest.approx(402 / 20)  # pages go first
    assert 'data-class="Ticket_only"' in page and '<td class="depth">400</td>' in page
    assert "20 s" in page  # the tickets drain after the pages: 402 alerts at 20/s
