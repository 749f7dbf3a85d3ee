"""INGEST_REQUIRED_FIELDS (the v2.5 guide's REQUIRED_MESSAGE_FIELDS): more fields an event must carry."""

from __future__ import annotations

import pytest

from ingest.parsing import EventError, Limits, normalise_event

NOW = "2030-01-01T00:00:00+00:00"


def test_an_event_with_the_required_fields_is_accepted():
    limits = Limits(required=("timestamp", "message", "hostname", "site"))
    event = normalise_event({"hostname": "h", "message": "m", "timestamp": NOW, "site": "lon"}, limits, NOW)
    assert event["site"] == "lon"


@pytest.mark.parametrize(
    ("event", "error"),
    [
        ({"hostname": "h", "message": "m"}, "timestamp is required"),
        ({"hostname": "h", "message": "m", "timestamp": NOW, "site": ""}, "site is required"),
        ({"hostname": "h", "timestamp": NOW, "message": "m"}, "site is required"),
    ],
)
def test_required_fields_refuse_events_without_them(event, error):
    limits = Limits(required=("timestamp", "message", "hostname", *(("site",) if "site" in error else ())))
    with pytest.raises(EventError, match=error):
        normalise_event(event, limits, NOW)


def test_a_required_field_may_come_under_its_short_name():
    limits = Limits(required=("timestamp", "message", "hostname"))
    assert normalise_event({"host": "h", "msg": "m", "timestamp": NOW}, limits, NOW)["message"] == "m"
