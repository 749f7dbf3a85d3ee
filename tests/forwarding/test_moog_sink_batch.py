"""The Moogsoft stand-in takes the REST LAM's multi-event form and records each event."""

from __future__ import annotations

import requests


def test_batch_is_recorded_event_by_event_with_one_request_number(moog_sink):
    events = [{"external_id": f"e{i}", "description": "x"} for i in range(3)]

    requests.post(moog_sink.url, json={"events": events}, timeout=30).raise_for_status()
    requests.post(moog_sink.url, json={"external_id": "single"}, timeout=30).raise_for_status()

    records = moog_sink.received()
    assert [r["body"]["external_id"] for r in records] == ["e0", "e1", "e2", "single"]
    assert [r["batch"] for r in records] == [3, 3, 3, None]
    assert len({r["request"] for r in records[:3]}) == 1 and records[3]["request"] != records[0]["request"]


def test_refused_event_makes_its_request_a_400(moog_sink):
    moog_sink.control(refuse=["bad"])

    refused = requests.post(moog_sink.url, json={"events": [{"external_id": "ok"}, {"external_id": "bad"}]}, timeout=30)
    fine = requests.post(moog_sink.url, json={"events": [{"external_id": "ok2"}]}, timeout=30)

    assert (refused.status_code, fine.status_code) == (400, 200)
    assert [r["body"]["external_id"] for r in moog_sink.received(accepted_only=True)] == ["ok2"]
