"""The shared rate limiter against the real Redis."""

from __future__ import annotations

import pytest

from forwarding.rate_limiter import send_record, slot_interval, slot_reserve
from mutt_project import redis_keys


@pytest.fixture
def limit(settings):
    settings.MOOG_RATE_LIMIT = 10
    settings.MOOG_RATE_PERIOD = 1
    settings.MOOG_RATE_GUARD_SECONDS = 0.0
    return settings


def _next_free_slot(client) -> int:
    """The limiter's own record: the next free slot, µs on the Redis clock."""
    return int(client.get(redis_keys.RATE_LIMIT))


def test_slots_are_spaced_by_the_period_over_the_limit(redis_client, limit):
    """Ten requests span one period, never less: each reservation takes the slot one interval later.

    Read from the slots themselves (Redis clock), not from how long the calls took.
    """
    slots = []
    for _ in range(10):
        assert slot_reserve(max_wait=5).reserved
        slots.append(_next_free_slot(redis_client))

    assert [b - a for a, b in zip(slots, slots[1:], strict=False)] == [100_000] * 9
    assert slots[-1] - slots[0] == 900_000


def test_a_slot_beyond_the_callers_patience_is_not_taken(redis_client, limit):
    for _ in range(5):
        slot_reserve(max_wait=5)
    free = _next_free_slot(redis_client)  # five slots taken: the next is about 0.5 s away

    refused = slot_reserve(max_wait=0.1)

    assert not refused.reserved and 0.1 < refused.wait <= 0.5
    assert _next_free_slot(redis_client) == free  # the refused slot is still free
    assert slot_reserve(max_wait=5).reserved
    assert _next_free_slot(redis_client) == free + 100_000  # and the next caller takes exactly it


def test_the_guard_widens_the_spacing(settings):
    settings.MOOG_RATE_LIMIT, settings.MOOG_RATE_PERIOD, settings.MOOG_RATE_GUARD_SECONDS = 20, 1, 0.04
    assert slot_interval() == pytest.approx(0.052)


def test_a_late_sender_cannot_make_n_plus_one_in_a_window(redis_client, limit):
    # Ten sends recorded now (as if slots had been reserved earlier and their senders were delayed).
    assert [send_record() for _ in range(10)] == [0] * 10

    wait = send_record()

    assert 0.9 < wait <= 1.0  # the eleventh waits until the first leaves the window
