"""The wake-up protocol against the real Redis (the broker is the same Redis: a message is a queue entry)."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from alerts.wakeup import WakeKind, wake, wake_clear, wake_hold, wake_later, wake_stale
from mutt_project.queues import Queue


def _messages(redis_client, queue: Queue) -> int:
    return redis_client.llen(queue.value)


def _not_sent(stage: str) -> float:
    return REGISTRY.get_sample_value("mutt_wakeups_not_sent_total", {"stage": stage}) or 0.0


def test_a_burst_of_commits_sends_one_message_and_a_cleared_flag_lets_the_next_through(redis_client):
    sent = [wake(WakeKind.CLASSIFY) for _ in range(5)]
    assert sent == [True] * 5  # every call reached Redis...
    assert _messages(redis_client, Queue.CLASSIFY) == 1  # ...and one message went out

    wake_clear(WakeKind.CLASSIFY)  # a task about to make its last claim
    wake(WakeKind.CLASSIFY)
    assert _messages(redis_client, Queue.CLASSIFY) == 2


def test_a_looping_worker_holding_the_flag_silences_committers_but_not_a_forced_hand_over(redis_client):
    wake_hold(WakeKind.FORWARD)
    wake(WakeKind.FORWARD)
    assert _messages(redis_client, Queue.FORWARD) == 0

    wake(WakeKind.FORWARD, force=True)
    wake_stale(WakeKind.FORWARD)
    assert _messages(redis_client, Queue.FORWARD) == 2


def test_delayed_wake_ups_are_deduplicated_across_workers(redis_client):
    for _ in range(3):
        wake_later(WakeKind.FORWARD, delay=30)
    assert _messages(redis_client, Queue.FORWARD) == 1
    # The immediate flag is separate: work committed meanwhile still wakes a worker now.
    wake(WakeKind.FORWARD)
    assert _messages(redis_client, Queue.FORWARD) == 2


@pytest.mark.integration
def test_a_wake_up_redis_cannot_take_is_counted_never_raised(redis_client, stop_service):
    before = _not_sent("classify"), _not_sent("forward")
    stop_service("redis")

    assert wake(WakeKind.CLASSIFY) is False
    wake_hold(WakeKind.CLASSIFY)
    wake_later(WakeKind.FORWARD, delay=5)
    wake_stale(WakeKind.FORWARD)  # the broker (Redis too) refuses the message

    assert (_not_sent("classify") - before[0], _not_sent("forward") - before[1]) == (2, 2)
