"""Syslog parsing and TCP framing: the pure modules, without sockets or a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.parsing import Limits, encode_event, normalise_event
from ingest.syslog_format import syslog_event, zone_named
from ingest.syslog_framing import LINE, OCTET, Framer

NOW = datetime(2026, 1, 2, 10, 0, 0, tzinfo=UTC)


def parse(data: bytes, peer: str = "192.0.2.7", **kwargs):
    return syslog_event(data, peer, NOW, **kwargs)


def test_rfc5424_fields_structured_data_and_bom():
    raw = (
        b"<165>1 2026-01-02T09:59:58.123456789+01:00 core-sw-01 ios 4711 LINK "
        b'[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][meta seq="1" note="a \\"q\\" \\] b"] '
        b"\xef\xbb\xbfInterface Gi0/1 down"
    )
    p = parse(raw)
    e = p.event
    assert p.anomalies == []
    assert (e["facility"], e["syslog_severity"]) == ("local4", 5)
    assert (e["hostname"], e["program"], e["procid"], e["msgid"]) == ("core-sw-01", "ios", "4711", "LINK")
    assert e["timestamp"] == "2026-01-02T08:59:58.123456+00:00"
    assert e["structured_data"] == {
        "exampleSDID@32473": {"iut": "3", "eventSource": "Application", "eventID": "1011"},
        "meta": {"seq": "1", "note": 'a "q" ] b'},
    }
    assert e["message"] == "Interface Gi0/1 down" and e["syslog_format"] == "rfc5424"


def test_rfc5424_nil_values_fall_back_to_peer_and_receive_time():
    e = parse(b"<14>1 - - - - - - hello").event
    assert e["hostname"] == "192.0.2.7" and e["timestamp"] == NOW.isoformat()
    assert "program" not in e and "structured_data" not in e and e["message"] == "hello"


def test_rfc3164_with_hostname_tag_and_pid():
    e = parse(b"<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed for lonvick on /dev/pts/8").event
    assert (e["facility"], e["syslog_severity"]) == ("auth", 2)
    assert (e["hostname"], e["program"], e["procid"]) == ("mymachine", "su", "230")
    assert e["message"] == "'su root' failed for lonvick on /dev/pts/8"
    assert e["timestamp"] == "2025-10-11T22:14:15+00:00"  # no year: the one closest to the receive time


def test_rfc3164_december_read_in_january_is_last_year_and_zone_rule():
    assert parse(b"<13>Dec 31 23:59:59 h t: x").event["timestamp"] == "2025-12-31T23:59:59+00:00"
    assert parse(b"<13>Jan  2 09:00:00 h t: x").event["timestamp"] == "2026-01-02T09:00:00+00:00"
    berlin = parse(b"<13>Jan  2 09:00:00 h t: x", default_zone=zone_named("+01:00")).event
    assert berlin["timestamp"] == "2026-01-02T08:00:00+00:00"
    assert zone_named("Europe/Berlin").utcoffset(datetime(2026, 7, 1)) == timedelta(hours=2)
    assert zone_named("UTC") is UTC and zone_named("-05:30") == timezone(-timedelta(hours=5, minutes=30))


def test_rfc3164_without_hostname_cisco_style_uses_peer():
    e = parse(b"<189>Jan  2 09:59:00: %LINK-3-UPDOWN: Interface Gi0/1, changed state to down").event
    assert e["hostname"] == "192.0.2.7" and e["syslog_severity"] == 5 and e["facility"] == "local7"
    assert e["message"].endswith("changed state to down")


def test_rfc3164_with_iso_timestamp_as_rsyslog_forwards():
    e = parse(b"<11>2026-01-02T10:00:01.5+00:00 web-01 nginx[9]: upstream timed out").event
    assert (e["hostname"], e["program"], e["message"]) == ("web-01", "nginx", "upstream timed out")
    assert e["timestamp"] == "2026-01-02T10:00:01.500000+00:00" and e["syslog_severity"] == 3


def test_invalid_pri_is_user_notice_with_the_whole_text():
    for raw in (b"no pri at all", b"<192>too big", b"<01>leading zero", b"<>empty", b"<13 unterminated"):
        p = parse(raw)
        assert "invalid_pri" in p.anomalies
        assert (p.event["facility"], p.event["syslog_severity"]) == ("user", 5)
        assert p.event["message"] == raw.decode() and p.event["hostname"] == "192.0.2.7"


def test_invalid_utf8_and_nul_are_replaced_not_refused():
    p = parse(b"<13>Jan  2 09:00:00 h prog: caf\xe9 \x00 end")
    assert {"invalid_utf8", "nul_bytes"} <= set(p.anomalies)
    assert p.event["message"] == "caf\ufffd \ufffd end"
    encode_event(normalise_event(p.event, Limits(), NOW.isoformat()))  # storable


def test_empty_message_is_named():
    p = parse(b"<13>")
    assert "empty_message" in p.anomalies and p.event["message"] == "(empty message)"


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=600))
def test_any_bytes_give_a_storable_event(data):
    p = syslog_event(data, "198.51.100.1", NOW)
    event = normalise_event(p.event, Limits(), NOW.isoformat())
    encode_event(event)
    assert 0 <= event["syslog_severity"] <= 7 and event["hostname"]


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 191),
    st.text(max_size=40),
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=20),
)
def test_5424_shaped_text_never_crashes(pri, body, word):
    for raw in (f'<{pri}>1 {word} {word} {word} - {word} [{word} a="{body}"] {body}', f"<{pri}>{word}: {body}"):
        p = syslog_event(raw.encode(), "198.51.100.1", NOW)
        assert p.event["syslog_severity"] == pri & 7


# --- framing --------------------------------------------------------------------------------------


def test_lf_framing_across_chunks_and_crlf():
    f = Framer(100)
    assert f.feed(b"<13>one\r\n<13>tw") == ([b"<13>one"], [])
    assert f.mode == LINE
    assert f.feed(b"o\n\n<13>three") == ([b"<13>two"], [])
    assert f.close() == ([b"<13>three"], [])


def test_octet_counting_across_chunks():
    f = Framer(100)
    msg = b"<13>1 - h app - - - hello world"
    stream = b"%d %s%d %s" % (len(msg), msg, len(msg), msg)
    frames = []
    for i in range(0, len(stream), 7):
        frames += f.feed(stream[i : i + 7])[0]
    assert f.mode == OCTET and frames == [msg, msg]
    assert f.close() == ([], [])


def test_octet_count_errors_are_fatal_and_truncation_is_named():
    too_big = Framer(100)
    assert too_big.feed(b"101 <13>x") == ([], ["octet_count_too_large"]) and too_big.fatal
    bad = Framer(100)
    assert bad.feed(b"12x <13>x") == ([], ["bad_octet_count"]) and bad.fatal
    huge = Framer(100)
    assert huge.feed(b"123456789012345") == ([], ["bad_octet_count"])
    truncated = Framer(100)
    assert truncated.feed(b"50 <13>only part") == ([], [])
    assert truncated.close() == ([], ["truncated"])


def test_overlong_line_is_skipped_and_the_next_line_kept():
    f = Framer(100)
    frames, errors = f.feed(b"<13>" + b"x" * 300)
    assert (frames, errors) == ([], ["too_large"])
    assert f.feed(b"y" * 300) == ([], [])
    assert f.feed(b"tail\n<13>next\n") == ([b"<13>next"], [])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=80), max_size=8), st.integers(1, 50))
def test_framer_never_crashes_and_bounds_its_buffer(chunks, max_bytes):
    f = Framer(max_bytes)
    for chunk in chunks:
        frames, _ = f.feed(chunk)
        assert all(len(frame) <= max_bytes for frame in frames)
        assert len(f._buffer) <= max_bytes + 80 + 12
    f.close()
