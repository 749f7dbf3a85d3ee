"""``manage.py moog_test``: post one test event to MOOG_WEBHOOK_URL and report status, latency and the answer.

The event goes with the same session as real alerts (headers, API key or
basic auth, TLS settings, User-Agent) but around the breaker, the rate limit
and the outbox: it checks the path to Moogsoft, it is not an alert. Exit
status 0 on a 2xx answer, 1 otherwise.
"""

from __future__ import annotations

import socket
import time
import uuid

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from forwarding.client import _get_session

ANSWER_EXCERPT = 500


def test_event() -> dict:
    return {
        "signature": "mutt-moog-test",
        "source": socket.gethostname(),
        "external_id": f"mutt-test-{uuid.uuid4()}",
        "severity": 0,  # clear: nothing for an operator to act on
        "type": "mutt_test",
        "manager": "MUTT",
        "class": "",
        "description": "MUTT connectivity test (manage.py moog_test); no action needed",
        "agent_time": int(time.time()),
    }


class Command(BaseCommand):
    help = "Post a test event to MOOG_WEBHOOK_URL; print the status, latency and answer."

    def handle(self, *args, **options) -> None:
        if not settings.MOOG_WEBHOOK_URL:
            raise CommandError("MOOG_WEBHOOK_URL is not set")
        event = test_event()
        started = time.monotonic()
        try:
            response = _get_session().post(settings.MOOG_WEBHOOK_URL, json=event, timeout=settings.MOOG_TIMEOUT)
        except requests.RequestException as exc:
            elapsed = (time.monotonic() - started) * 1000
            raise CommandError(f"no answer from Moogsoft after {elapsed:.0f} ms: {type(exc).__name__}") from None
        elapsed = (time.monotonic() - started) * 1000
        self.stdout.write(f"url: {settings.MOOG_WEBHOOK_URL}")
        self.stdout.write(f"status: {response.status_code}")
        self.stdout.write(f"latency_ms: {elapsed:.0f}")
        self.stdout.write(f"external_id: {event['external_id']}")
        self.stdout.write(f"answer: {response.text[:ANSWER_EXCERPT]}")
        if not 200 <= response.status_code < 300:
            raise CommandError(f"Moogsoft answered {response.status_code}")
