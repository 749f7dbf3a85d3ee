"""The Moogsoft payload mapping (pure: no database, no Redis)."""

from __future__ import annotations

import pytest

from forwarding.payload import DEFAULT_SEVERITY_MAP, alert_signature, moog_payload, moog_severity
from tests.forwarding.factories import alert_payload


@pytest.mark.parametrize(("syslog", "moog"), [(0, 5), (1, 5), (2, 4), (3, 3), (4, 2), (5, 1), (6, 1), (7, 1)])
def test_syslog_severity_is_mapped_never_passed_through(syslog, moog):
    assert moog_severity(syslog, DEFAULT_SEVERITY_MAP, default=2) == moog


def test_emergency_is_never_sent_as_clear():
    assert moog_payload(alert_payload(syslog_severity=0))["severity"] == 5


@pytest.mark.parametrize("syslog", [None, 8, -1])
def test_missing_or_out_of_range_severity_gets_the_default(syslog):
    assert moog_severity(syslog, DEFAULT_SEVERITY_MAP, default=2) == 2


def test_the_map_is_configurable():
    custom = (4, 4, 4, 3, 3, 2, 1, 0)
    assert moog_payload(alert_payload(syslog_severity=7), severity_map=custom)["severity"] == 0


def test_syslog_alert_fields():
    alert = alert_payload(
        hostname="router-01", rule_id=7, team="NETO", handling="Page_only", timestamp="2026-01-01T00:00:10Z"
    )
    body = moog_payload(alert)
    assert body == {
        "signature": "router-01:7:syslog",
        "source": "router-01",
        "external_id": alert["correlation_id"],
        "severity": 4,
        "type": "syslog",
        "manager": "MUTT",
        "class": "NETO",
        "description": alert["message"],
        "agent_time": 1767225610,
        "handling": "Page_only",
        "rule_id": 7,
    }


def test_trap_type_and_signature_carry_the_oid():
    body = moog_payload(alert_payload(trap_oid="1.3.6.1.4.1.9.9.41", source="snmp"))
    assert body["type"] == "1.3.6.1.4.1.9.9.41"
    assert body["signature"].endswith(":1.3.6.1.4.1.9.9.41")


def test_signature_is_stable_for_repeats_of_one_condition():
    first, again = alert_payload(message="link down"), alert_payload(message="link down again")
    assert moog_payload(first)["signature"] == moog_payload(again)["signature"]
    assert moog_payload(first)["external_id"] != moog_payload(again)["external_id"]
    assert alert_signature("h", None, None) == "h:none:syslog"
