"""The shared rate limiter against the real Redis."""

from __future__ import annotations

import pytest

from forwarding.rate_limiter import send_record, slot_interval, slot_reserve


@pytest.fixture
def limit(settings):
    settings.MOOG_RATE_LIMIT = 10
    settings.MOOG_RATE_PERIOD = 1
    settings.MOOG_RATE_GUARD_SECONDS = 0.0
    return settings


def test_slots_are_spaced_by_the_period_over_the_limit(redis_client, limit):
    waits = [slot_reserve(max_wait=5).wait for _ in range(10)]

    assert waits[0] == pytest.approx(0, abs=0.01)
    assert waits[-1] == pytest.approx(0.9, abs=0.02)  # ten requests span one period, never less
    assert all(b > a for a, b in zip(waits, waits[1:], strict=False))


def test_a_slot_beyond_the_callers_patience_is_not_taken(redis_client, limit):
    for _ in range(5):
        slot_reserve(max_wait=5)
    refused = slot_reserve(max_wait=0.1)
    assert not refused.reserved and refused.wait == pytest.approx(0.5, abs=0.02)
    assert slot_reserve(max_wait=5).wait == pytest.approx(0.5, abs=0.02)  # the refused slot is still free


def test_the_guard_widens_the_spacing(settings):
    settings.MOOG_RATE_LIMIT, settings.MOOG_RATE_PERIOD, settings.MOOG_RATE_GUARD_SECONDS = 20, 1, 0.04
    assert slot_interval() == pytest.approx(0.052)


def test_a_late_sender_cannot_make_n_plus_one_in_a_window(redis_client, limit):
    # Ten sends recorded now (as if slots had been reserved earlier and their senders were delayed).
    assert [send_record() for _ in range(10)] == [0] * 10

    wait = send_record()

    assert 0.9 < wait <= 1.0  # the eleventh waits until the first leaves the window
