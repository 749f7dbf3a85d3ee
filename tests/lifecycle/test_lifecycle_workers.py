"""Alert lifecycle end to end with real workers, PostgreSQL, Redis and the Moogsoft stand-in:
trap names, clears (mapped trap pairs and ``clears_rule``), repeat folding, dev hosts by pattern."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from alerts.models import AlertOutbox, AlertSignature, DevelopmentHost, EventAuditLog
from alerts.services.config import ConfigChange
from alerts.services.runtime import runtime_setting_set
from tests.alerts.factories import make_rule
from tests.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LINK_DOWN = "1.3.6.1.6.3.1.1.5.3"
LINK_UP = "1.3.6.1.6.3.1.1.5.4"
IF_INDEX = "1.3.6.1.2.1.2.2.1.1"


def _post(client, api_key, events):
    response = client.post(
        "/api/v2/ingest", data=events, content_type="application/json", headers={"X-API-Key": api_key}
    )
    assert response.status_code == 202, response.content
    return response.json()


def _trap(oid: str, if_index: int, host: str = "core-sw-01") -> dict:
    return {
        "timestamp": datetime.now(UTC).isoformat(),
        "hostname": host,
        "message": f"trap {oid} ifIndex {if_index}",
        "trap_oid": oid,
        "varbinds": [{"oid": f"{IF_INDEX}.{if_index}", "value": str(if_index)}],
    }


def _syslog(message: str, host: str = "router-01", severity: int = 3) -> dict:
    return {
        "timestamp": datetime.now(UTC).isoformat(),
        "hostname": host,
        "message": message,
        "syslog_severity": severity,
    }


def _bodies(moog_sink) -> list[dict]:
    return [r["body"] for r in moog_sink.received(accepted_only=True)]


def _at_least(read, count: int, message: str):
    """Waits until ``read()`` returns at least ``count`` items, and returns them."""
    return wait_for(lambda: (items := read()) and len(items) >= count and items, timeout=60, message=message)


def test_link_down_then_link_up_sends_the_alert_then_a_clear_with_the_same_signature(
    client, workers, moog_sink, api_key
):
    rule = make_rule(match_type="trap_name", match_string="linkDown", prod_handling="Page_and_ticket")
    workers.start("classify,forward")

    down = _post(client, api_key, _trap(LINK_DOWN, 3))["correlation_id"]
    [alert] = wait_for(lambda: _bodies(moog_sink), message="linkDown delivered")
    assert alert["type"] == "linkDown" and alert["description"].startswith("linkDown: ")
    assert alert["rule_id"] == rule.id and alert["severity"] == 3  # the mapping's default syslog 3 -> Moogsoft 3

    other = _post(client, api_key, _trap(LINK_UP, 7))["correlation_id"]  # ifIndex 7 never went down
    up = _post(client, api_key, _trap(LINK_UP, 3))["correlation_id"]
    bodies = _at_least(lambda: _bodies(moog_sink), 2, "linkUp delivered")
    clear = bodies[1]
    assert clear["severity"] == 0 and clear["signature"] == alert["signature"] and clear["type"] == "linkUp"
    assert clear["external_id"] == up

    rows = _at_least(lambda: list(EventAuditLog.objects.all()), 3, "3 audit rows")
    audit = {str(r.correlation_id): r for r in rows}
    assert audit[down].trap_name == "linkDown" and audit[down].signature == alert["signature"]
    assert audit[up].trap_name == "linkUp" and str(audit[up].clears) == down
    assert audit[other].forward_status == "none" and audit[other].clears is None  # nothing open: not forwarded
    assert not AlertOutbox.objects.filter(correlation_id=other).exists()
    assert len(_bodies(moog_sink)) == 2
    assert AlertSignature.objects.get(signature=alert["signature"]).is_open is False


def test_syslog_down_up_pair_with_clears_rule_closes_the_alert(client, workers, moog_sink, api_key):
    down_rule = make_rule(
        match_type="regex", match_string=r"Interface (?P<instance>\S+) changed state to down", prod_handling="Page_only"
    )
    make_rule(
        match_type="regex",
        match_string=r"Interface (?P<instance>\S+) changed state to up",
        prod_handling="Log_only",
        clears_rule=down_rule,
    )
    workers.start("classify,forward")

    down = _post(client, api_key, _syslog("Interface Gi0/1 changed state to down"))["correlation_id"]
    [alert] = wait_for(lambda: _bodies(moog_sink), message="down delivered")
    assert alert["severity"] == 3 and alert["signature"] == f"router-01:{down_rule.id}:syslog:Gi0/1"

    _post(client, api_key, _syslog("Interface Gi0/2 changed state to up"))  # another interface: nothing to clear
    up = _post(client, api_key, _syslog("Interface Gi0/1 changed state to up", severity=5))["correlation_id"]
    bodies = _at_least(lambda: _bodies(moog_sink), 2, "clear delivered")
    assert (bodies[1]["severity"], bodies[1]["signature"], bodies[1]["external_id"]) == (0, alert["signature"], up)
    row = wait_for(lambda: EventAuditLog.objects.filter(correlation_id=up).first(), message="clear audited")
    assert str(row.clears) == down and row.forward_status in ("pending", "sent")
    wait_for(lambda: EventAuditLog.objects.count() == 3, message="3 audit rows")
    assert len(_bodies(moog_sink)) == 2


def test_a_thousand_repeats_within_the_window_cost_one_moogsoft_request(client, workers, moog_sink, api_key):
    runtime_setting_set("fold_window_seconds", 60, ConfigChange(user="test"))
    make_rule(match_string="fan failure", prod_handling="Page_and_ticket")
    workers.start("classify,forward")

    for _ in range(10):
        _post(client, api_key, [_syslog("chassis fan failure", host="edge-7") for _ in range(100)])

    wait_for(lambda: EventAuditLog.objects.count() == 1000, timeout=60, message="1000 audit rows")
    first = EventAuditLog.objects.get(folded_into__isnull=True)
    assert EventAuditLog.objects.filter(folded_into=first.correlation_id, forward_status="none").count() == 999
    state = AlertSignature.objects.get(signature=first.signature)
    assert state.repeat_count == 1000 and str(state.correlation_id) == str(first.correlation_id)
    wait_for(lambda: not AlertOutbox.objects.exists(), message="outbox drained")
    bodies = _bodies(moog_sink)
    assert len(bodies) == 1 and bodies[0]["external_id"] == str(first.correlation_id)


def test_wildcard_and_cidr_development_hosts_get_dev_handling(client, workers, moog_sink, api_key):
    DevelopmentHost.objects.create(hostname="lab-*")
    DevelopmentHost.objects.create(hostname="10.20.0.0/16")
    make_rule(match_string="power", prod_handling="Page_only", dev_handling="Log_only")
    workers.start("classify,forward")

    events = [_syslog("power supply lost", host=h) for h in ("lab-7", "10.20.3.4", "core-1", "10.21.0.1")]
    _post(client, api_key, events)

    rows = {e.hostname: e for e in _at_least(lambda: list(EventAuditLog.objects.all()), 4, "audited")}
    assert (rows["lab-7"].is_dev, rows["lab-7"].handling) == (True, "Log_only")
    assert (rows["10.20.3.4"].is_dev, rows["10.20.3.4"].handling) == (True, "Log_only")
    assert (rows["core-1"].is_dev, rows["core-1"].handling) == (False, "Page_only")
    assert (rows["10.21.0.1"].is_dev, rows["10.21.0.1"].handling) == (False, "Page_only")
    sent = _at_least(lambda: _bodies(moog_sink), 2, "prod alerts sent")
    assert {b["source"] for b in sent} == {"core-1", "10.21.0.1"}
