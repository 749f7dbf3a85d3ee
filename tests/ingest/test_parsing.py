"""The pure parsing and normalisation rules (ingest/parsing.py), no I/O."""

from __future__ import annotations

import gzip
import time
import uuid
from datetime import UTC, datetime

import pytest

from ingest.parsing import (
    BodyError,
    BodyTooLarge,
    EventError,
    Limits,
    UnsupportedMediaType,
    check_content_type,
    decode_body,
    encode_event,
    normalise_event,
    parse_body,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LIMITS = Limits(max_events=100, max_message_bytes=1024)


def _event(**fields) -> dict:
    return normalise_event(
        {"timestamp": "2026-03-01T11:59:00Z", "hostname": "h", "message": "m"} | fields, LIMITS, NOW.isoformat()
    )


def test_single_object_array_and_ndjson_give_the_same_events():
    one = b'{"hostname": "a", "message": "x"}'
    assert parse_body(one) == [{"hostname": "a", "message": "x"}]
    assert parse_body(b"[" + one + b"," + one + b"]") == [{"hostname": "a", "message": "x"}] * 2
    assert parse_body(one + b"\n\n  \n" + one + b"\r\n") == [{"hostname": "a", "message": "x"}] * 2


def test_kafkarest_records_are_unwrapped():
    body = b'{"records": [{"value": {"hostname": "a", "message": "x"}}, {"value": {"hostname": "b"}}]}'
    assert parse_body(body) == [{"hostname": "a", "message": "x"}, {"hostname": "b"}]


def test_a_bad_ndjson_line_is_reported_by_its_line_and_the_rest_kept():
    events = parse_body(b'{"a": 1}\nnot json\n{"b": 2}')
    with pytest.raises(EventError, match="line 2 is not valid JSON"):
        normalise_event(events[1], LIMITS, NOW.isoformat())
    assert events[0] == {"a": 1} and events[2] == {"b": 2}


@pytest.mark.parametrize("body", [b"", b"   \n", b"{not json", b"\xff\xfe garbage"])
def test_nothing_usable_is_a_body_error(body):
    with pytest.raises(BodyError):
        parse_body(body)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-01T10:00:00Z", "2026-03-01T10:00:00+00:00"),
        ("2026-03-01T12:00:00+02:00", "2026-03-01T10:00:00+00:00"),  # RFC 3339 offset
        ("2026-03-01T10:00:00.123456-05:30", "2026-03-01T15:30:00.123456+00:00"),
        ("2026-03-01T10:00:00", "2026-03-01T10:00:00+00:00"),  # offset-less means UTC
        (1772359200, "2026-03-01T10:00:00+00:00"),  # epoch seconds, as rsyslog can send
        ("1772359200.5", "2026-03-01T10:00:00.500000+00:00"),
    ],
)
def test_timestamps_are_normalised_to_utc(value, expected):
    assert _event(timestamp=value)["timestamp"] == expected


@pytest.mark.parametrize("value", [None, "", "yesterday", True, 1e300, "0001-01-01T00:00:00+01:00", [1]])
def test_bad_timestamps_are_refused_with_a_reason(value):
    with pytest.raises(EventError, match="timestamp"):
        _event(timestamp=value)


@pytest.mark.parametrize(("value", "expected"), [
    ("emerg", 0), ("ALERT", 1), ("crit", 2), ("err", 3), ("warning", 4), ("notice", 5), ("info", 6),
    ("debug", 7), (3, 3), ("5", 5), (4.0, 4), (None, None),
])  # fmt: skip
def test_severity_numbers_and_names(value, expected):
    assert _event(syslog_severity=value)["syslog_severity"] == expected


@pytest.mark.parametrize("value", [8, -1, "loud", 2.5, True])
def test_bad_severity_is_refused(value):
    with pytest.raises(EventError, match="syslog_severity"):
        _event(syslog_severity=value)


def test_aliases_are_normalised_and_unknown_fields_kept():
    event = normalise_event(
        {
            "timestamp": 1772359200,
            "host": "Router-01.Example.NET",
            "msg": "link down",
            "severity": "crit",
            "facility": "local7",
            "nested": {"k": [1, 2]},
        },
        LIMITS,
        NOW.isoformat(),
    )
    assert event["hostname"] == "router-01.example.net"
    assert event["message"] == "link down" and event["syslog_severity"] == 2
    assert event["facility"] == "local7" and event["nested"] == {"k": [1, 2]}
    assert "host" not in event and "msg" not in event and "severity" not in event
    assert event["received_at"] == NOW.isoformat()
    assert event["source"] == "syslog"


def test_trap_oid_is_validated_and_implies_snmp():
    event = _event(trap_oid=".1.3.6.1.4.1.9.9.41.2.0.1")
    assert event["trap_oid"] == "1.3.6.1.4.1.9.9.41.2.0.1" and event["source"] == "snmp"
    for bad in ("1.3.6.x", "IF-MIB::linkDown", "1", 42):
        with pytest.raises(EventError, match="trap_oid"):
            _event(trap_oid=bad)


def test_correlation_id_is_kept_when_valid_generated_when_absent_refused_when_not_a_uuid():
    given = str(uuid.uuid4())
    assert _event(correlation_id=given)["correlation_id"] == given
    before = time.time_ns() // 1_000_000
    generated = _event()["correlation_id"]
    after = time.time_ns() // 1_000_000
    assert str(uuid.UUID(generated)) == generated and uuid.UUID(generated).version == 7
    # Time-ordered: the first 48 bits are the Unix time in milliseconds of its making.
    assert before <= int(generated.replace("-", "")[:12], 16) <= after
    with pytest.raises(EventError, match="correlation_id"):
        _event(correlation_id="not-a-uuid")


@pytest.mark.parametrize(("fields", "reason"), [
    ({"hostname": ""}, "hostname is required"),
    ({"hostname": "h" * 256}, "hostname longer than 255"),
    ({"message": "   "}, "message is required"),
    ({"message": 42}, "message is required"),
    ({"message": "x" * 1025}, "message longer than 1024 bytes"),
    ({"source": "email"}, "source must be"),
])  # fmt: skip
def test_each_refusal_says_why(fields, reason):
    with pytest.raises(EventError, match=reason):
        _event(**fields)


def test_nul_characters_anywhere_become_replacement_characters_for_postgresql():
    encoded = encode_event(_event(message="a\x00b", extra={"k\x00": ["v\x00"]}))
    assert b"\\u0000" not in encoded
    assert "a\ufffdb".encode() in encoded and "k\ufffd".encode() in encoded


def test_gzip_is_decoded_and_its_decompressed_size_is_capped():
    body = b'{"hostname": "a"}\n' * 10
    assert decode_body(gzip.compress(body), "gzip", limit=1024) == body
    bomb = gzip.compress(b"\0" * 10_000_000)
    assert len(bomb) < 20_000
    with pytest.raises(BodyTooLarge, match="decompressed body larger than 1024 bytes"):
        decode_body(bomb, "gzip", limit=1024)
    with pytest.raises(BodyError, match="not valid gzip"):
        decode_body(b"not gzip at all", "gzip", limit=1024)
    with pytest.raises(UnsupportedMediaType, match="content encoding"):
        decode_body(body, "br", limit=1024)


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "",
        "application/json",
        "application/json; charset=utf-8",
        "application/x-ndjson",
        "application/jsonlines",
        "text/plain",
        "application/vnd.kafka.json.v2+json",
    ],
)
def test_json_and_ndjson_content_types_are_read(content_type):
    check_content_type(content_type)


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/xml", "multipart/form-data"])
def test_other_content_types_are_refused(content_type):
    with pytest.raises(UnsupportedMediaType, match="unsupported content type"):
        check_content_type(content_type)
