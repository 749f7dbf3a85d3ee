"""The shared rate limiter against the real Redis."""

from __future__ import annotations

import pytest

from forwarding.rate_limiter import SendPermit, send_record, slot_interval, slot_reserve
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


def _window(client) -> dict[str, int]:
    """The send window as the limiter keeps it: member -> score (µs, Redis clock)."""
    return {m: int(score) for m, score in client.zrange(redis_keys.RATE_LIMIT_SENT, 0, -1, withscores=True)}


def _redis_now_us(client) -> int:
    seconds, micros = client.time()
    return seconds * 1_000_000 + micros


def test_a_request_holds_its_place_while_in_flight_and_one_period_after_it_finished(redis_client, limit):
    # Ten sends recorded now (as if slots had been reserved earlier and their senders were delayed).
    permits = [send_record() for _ in range(10)]
    assert all(isinstance(p, SendPermit) for p in permits)

    # All ten in flight: their arrival at Moogsoft may still come at any moment, so an eleventh
    # may not be sent; it is told to ask again shortly (not to sleep a whole period).
    in_flight = send_record()
    assert not isinstance(in_flight, SendPermit) and 0 < in_flight <= 0.05

    for permit in permits:
        permit.finish()
    finished_at = max(_window(redis_client).values())
    assert finished_at <= _redis_now_us(redis_client)  # re-scored with the moment each finished

    first_finished = min(_window(redis_client).values())
    before = _redis_now_us(redis_client)
    wait = send_record()
    after = _redis_now_us(redis_client)
    assert not isinstance(wait, SendPermit)
    # The eleventh may go one period after the first of them finished, not before (Redis clock).
    assert first_finished + 1_000_000 - after - 1 <= wait * 1_000_000 <= first_finished + 1_000_000 - before + 1


def test_a_request_that_was_never_sent_gives_its_place_back(redis_client, limit):
    permits = [send_record() for _ in range(10)]
    permits[0].finish(sent=False)

    assert permits[0].member not in _window(redis_client)
    assert isinstance(send_record(), SendPermit)


def test_a_finish_after_the_entry_left_the_window_does_not_bring_it_back(redis_client, limit):
    permit = send_record()
    redis_client.delete(redis_keys.RATE_LIMIT_SENT)  # as after the key expired

    permit.finish()

    assert _window(redis_client) == {}
