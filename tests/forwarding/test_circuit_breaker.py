"""The shared circuit breaker against the real Redis (two handles play two workers)."""

from __future__ import annotations

import time

import pytest

from forwarding.circuit_breaker import CircuitBreaker, breaker_status


@pytest.fixture
def breaker_settings(settings):
    settings.MOOG_CIRCUIT_BREAKER_THRESHOLD = 3
    settings.MOOG_CIRCUIT_BREAKER_TIMEOUT = 1
    return settings


def test_opens_after_threshold_consecutive_failures(redis_client, breaker_settings):
    worker = CircuitBreaker()
    worker.record_failure()
    worker.record_failure()
    assert breaker_status()["state"] == "closed" and breaker_status()["failures"] == 2
    before = time.time()
    worker.record_failure()
    after = time.time()

    status = breaker_status()
    assert status["state"] == "open" and before - 0.01 <= status["opened_at"] <= after + 0.01  # Redis clock
    verdict = worker.acquire()
    assert not verdict.may_send and 0 < verdict.wait <= 1


def test_a_success_resets_the_consecutive_count(redis_client, breaker_settings):
    worker = CircuitBreaker()
    for _ in range(2):
        worker.record_failure()
    worker.record_success()
    for _ in range(2):
        worker.record_failure()
    assert breaker_status()["state"] == "closed"


def test_exactly_one_worker_probes_and_success_closes(redis_client, breaker_settings):
    first, second = CircuitBreaker(), CircuitBreaker()
    for _ in range(3):
        first.record_failure()
    time.sleep(1.05)

    verdicts = [first.acquire().verdict, second.acquire().verdict]

    assert sorted(verdicts) == ["open", "probe"]
    assert breaker_status()["state"] == "half_open"
    prober = first if verdicts[0] == "probe" else second
    prober.record_success()
    assert breaker_status()["state"] == "closed"
    assert first.acquire().verdict == second.acquire().verdict == "closed"


def test_failed_probe_reopens_and_a_late_failure_of_another_worker_does_not(redis_client, breaker_settings):
    prober, other = CircuitBreaker(), CircuitBreaker()
    for _ in range(3):
        prober.record_failure()
    time.sleep(1.05)
    assert prober.acquire().verdict == "probe"

    other.record_failure()  # an answer to a request sent before the breaker opened
    assert breaker_status()["state"] == "half_open"
    prober.record_failure()

    assert breaker_status()["state"] == "open"
    assert not other.acquire().may_send
