"""``manage.py moog_test`` against the Moogsoft stand-in: status, latency and answer; a refusal fails."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

import forwarding.client
from mutt_project.version import VERSION


@pytest.fixture
def sink(settings, moog_sink):
    settings.MOOG_WEBHOOK_URL = moog_sink.url
    forwarding.client._session = None
    yield moog_sink
    forwarding.client._session = None


def test_moog_test_posts_one_event_and_reports(sink):
    out = io.StringIO()
    call_command("moog_test", stdout=out)
    lines = dict(line.split(": ", 1) for line in out.getvalue().splitlines())
    assert lines["status"] == "200" and int(lines["latency_ms"]) >= 0 and lines["answer"]
    (received,) = sink.received()
    assert received["body"]["external_id"] == lines["external_id"]
    assert received["headers"]["User-Agent"] == f"MUTT/{VERSION}"


def test_moog_test_fails_on_a_refusal(sink):
    sink.control(status=422)
    out = io.StringIO()
    with pytest.raises(CommandError, match="422"):
        call_command("moog_test", stdout=out)
    assert "status: 422" in out.getvalue()
