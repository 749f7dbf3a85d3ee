"""Moogsoft down for 30 s: the shared breaker opens, probes once per half-open period, and every alert arrives."""

from __future__ import annotations

import math

import pytest

from alerts.models import AlertOutbox, DeadLetter
from alerts.wakeup import WakeKind, wake
from forwarding.circuit_breaker import breaker_status
from tests.conftest import wait_for
from tests.forwarding.factories import outbox_rows

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

THRESHOLD, OPEN_SECONDS, OUTAGE, WORKERS = 5, 5, 30, 3


def test_outage_opens_the_breaker_then_every_alert_is_delivered_once(workers, moog_sink):
    env = {
        "MOOG_RATE_LIMIT": "20",
        "MOOG_CIRCUIT_BREAKER_THRESHOLD": str(THRESHOLD),
        "MOOG_CIRCUIT_BREAKER_TIMEOUT": str(OPEN_SECONDS),
        "MOOG_RETRY_MAX_DELAY": "5",
        "MOOG_MAX_RETRIES": "20",
        "FORWARD_TIME_SLICE_SECONDS": "10",
    }
    for _ in range(WORKERS):
        workers.start("forward", env=env)
    moog_sink.control(status=503, for_seconds=OUTAGE)
    expected = {str(r.correlation_id) for r in outbox_rows(60)}
    wake(WakeKind.FORWARD)

    wait_for(lambda: breaker_status()["state"] == "open", timeout=60, message="breaker open")

    def delivered():
        return {r["body"]["external_id"] for r in moog_sink.received(accepted_only=True)}

    wait_for(lambda: delivered() == expected, timeout=OUTAGE + 40, interval=0.5, message="all 60 delivered")
    received = moog_sink.received()
    failed = sorted(r["at"] for r in received if r["status"] == 503)
    accepted = [r["body"]["external_id"] for r in received if r["status"] == 200]
    # After the first failures (threshold plus what other workers had in flight), only probes reach Moogsoft.
    probes = [t for t in failed if t > failed[0] + 1.0]
    gaps = [b - a for a, b in zip(probes, probes[1:], strict=False)]
    print(
        f"\noutage {OUTAGE}s: {len(failed)} requests failed ({len(failed) - len(probes)} before opening,"
        f" {len(probes)} probes, gaps {[round(g, 1) for g in gaps]}), {len(accepted)} accepted for"
        f" {len(expected)} alerts"
    )

    assert len(failed) <= THRESHOLD + WORKERS - 1 + math.ceil(OUTAGE / OPEN_SECONDS) + 1
    assert all(gap >= OPEN_SECONDS * 0.8 for gap in gaps)  # at most one probe per half-open period
    assert set(accepted) == expected
    assert breaker_status()["state"] == "closed"
    wait_for(lambda: not AlertOutbox.objects.exists(), message="outbox emptied")
    assert not DeadLetter.objects.exists()
