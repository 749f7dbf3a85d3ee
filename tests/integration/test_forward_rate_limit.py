"""Three forward workers share one Moogsoft rate limit and use all of it."""

from __future__ import annotations

import pytest

from alerts.models import AlertOutbox
from alerts.wakeup import WakeKind, wake
from tests.conftest import wait_for
from tests.forwarding.factories import outbox_rows

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def max_in_any_window(times: list[float], window: float = 1.0) -> int:
    """The most requests seen in any half-open window [t, t + window) (sliding over every arrival)."""
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_three_workers_never_exceed_the_shared_limit_and_drain_the_backlog(workers, moog_sink):
    env = {"MOOG_RATE_LIMIT": "20", "MOOG_RATE_PERIOD": "1"}
    for _ in range(3):
        workers.start("forward", env=env)
    rows = outbox_rows(300)
    expected = {str(r.correlation_id) for r in rows}

    wake(WakeKind.FORWARD)
    # Poll PostgreSQL, not the stand-in, so the test does not compete with the deliveries it measures.
    wait_for(lambda: not AlertOutbox.objects.exists(), timeout=180, interval=0.5, message="outbox drained")
    received = moog_sink.received()
    times = [r["at"] for r in received]
    drain = max(times) - min(times)
    print(f"\nrate limit 20/s, 3 workers: max {max_in_any_window(times)} per 1 s window, drain {drain:.2f} s")

    assert max_in_any_window(times) <= 20
    assert {r["body"]["external_id"] for r in received} == expected
    assert len(received) == 300  # nothing sent twice
