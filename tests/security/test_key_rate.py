"""A key limited to 10 requests/s gets at most 10 accepted in any second across 3 gunicorn workers,
measured on Redis's clock (the time each accepted request was counted, sent back by the server)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from alerts.key_rate import parse_rate
from alerts.models import ApiKey
from alerts.services.api_keys import api_key_create
from tests.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_rate_parsing():
    assert parse_rate("10/s") == (10, 1) and parse_rate("1200/min") == (1200, 60) and parse_rate("5/day") == (5, 86400)
    assert parse_rate("ten/s") is None and parse_rate("10/fortnight") is None and parse_rate("0/s") is None


def test_a_key_limited_to_10_per_second_gets_at_most_10_in_any_second_across_three_workers(mutt_server):
    api_key, key = api_key_create(name="limited", scope="read", rate_limit="10/s")
    url = mutt_server("web", workers=3) + "/api/v2/rules"
    session_headers = {"X-API-Key": key}

    def hammer(_):
        accepted, refused = [], 0
        with requests.Session() as session:
            deadline = time.monotonic() + 3.0
            while time.monotonic() < deadline:
                answer = session.get(url, headers=session_headers, timeout=30)
                if answer.status_code == 200:
                    accepted.append(int(answer.headers["X-RateLimit-Counted-At"]))
                else:
                    assert answer.status_code == 429 and int(answer.headers["Retry-After"]) >= 1
                    refused += 1
        return accepted, refused

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(hammer, range(8)))
    counted = sorted(t for accepted, _ in results for t in accepted)
    refused = sum(r for _, r in results)
    assert refused > 0 and len(counted) > 10  # the limit bit, and it let requests through over time
    # Any 11 consecutive accepted arrivals span at least one second of Redis's clock.
    crowded = [(a, b) for a, b in zip(counted, counted[10:], strict=False) if b - a < 1_000_000]
    assert not crowded, f"{len(crowded)} windows of 1 s held more than 10 accepted requests"
    # last_used_at is written, but not once per request.
    assert wait_for(lambda: ApiKey.objects.get(pk=api_key.pk).last_used_at, timeout=10, message="last_used_at")


def test_an_expired_key_is_refused(client):
    from datetime import timedelta

    from django.utils import timezone

    _, key = api_key_create(name="old", scope="read", expiry_date=timezone.now() - timedelta(seconds=1))
    answer = client.get("/api/v2/rules", HTTP_X_API_KEY=key)
    assert answer.status_code == 401
