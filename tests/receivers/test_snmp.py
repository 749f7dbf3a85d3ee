"""SNMP traps and informs from net-snmp's own tools into the receivers process (pysnmp 7)."""

from __future__ import annotations

import subprocess
import uuid

import pytest

from tests.conftest import free_port, wait_for
from tests.receivers.conftest import events_with

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ENGINE_ID = "0x8000000001020304"
USER = "mutt-trap"
AUTH_KEY = "auth-pass-phrase-1"
PRIV_KEY = "priv-pass-phrase-1"
LINK_DOWN = "1.3.6.1.6.3.1.1.5.3"
IF_INDEX = "1.3.6.1.2.1.2.2.1.1"
DESCR = "1.3.6.1.2.1.2.2.1.2"


@pytest.fixture(scope="module")
def snmp_receiver(tmp_path_factory, django_db_setup, django_db_blocker):
    from tests.receivers.conftest import start_receiver

    receiver = start_receiver(
        tmp_path_factory.mktemp("snmp"),
        SNMP_TRAP_PORT=str(free_port()),
        SNMP_COMMUNITIES="mutt-community",
        SNMP_V3_USERS=f"{USER}:SHA:{AUTH_KEY}:AES:{PRIV_KEY}:{ENGINE_ID}",
    )
    yield receiver
    receiver.stop()


@pytest.fixture
def snmp(snmp_receiver, transactional_db, redis_client):
    return snmp_receiver


def _send(tool: str, port: int, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([tool, "-r", "3", "-t", "3", *args], capture_output=True, text=True, timeout=60, check=False)


def _v2_trap(marker: str, index: int = 3) -> list[str]:
    return ["", LINK_DOWN, f"{IF_INDEX}.{index}", "i", str(index), f"{DESCR}.{index}", "s", marker]


def test_v2c_trap_with_a_known_community(snmp):
    marker = f"v2c-{uuid.uuid4().hex[:10]}"
    port = snmp.ports["trap"]
    result = _send("snmptrap", port, "-v", "2c", "-c", "mutt-community", f"udp:127.0.0.1:{port}", *_v2_trap(marker))
    assert result.returncode == 0, result.stderr
    [event] = wait_for(lambda: events_with(marker), timeout=30, message="the v2c trap stored")
    assert event["trap_oid"] == LINK_DOWN and event["source"] == "snmp" and event["hostname"] == "127.0.0.1"
    varbinds = {v["oid"]: v["value"] for v in event["varbinds"]}
    assert varbinds[f"{IF_INDEX}.3"] == "3" and varbinds[f"{DESCR}.3"] == marker
    assert varbinds["1.3.6.1.6.3.1.1.4.1.0"] == LINK_DOWN and event["snmp_version"] == "v2c"


def test_v1_trap_is_converted_to_the_v2_form(snmp):
    marker = f"v1-{uuid.uuid4().hex[:10]}"
    port = snmp.ports["trap"]
    # Enterprise-specific trap 7 of enterprise 1.3.6.1.4.1.9999 from agent 192.0.2.9.
    args = ["-v", "1", "-c", "mutt-community", f"udp:127.0.0.1:{port}", "1.3.6.1.4.1.9999", "192.0.2.9", "6", "7", ""]
    result = _send("snmptrap", port, *args, f"{DESCR}.1", "s", marker)
    assert result.returncode == 0, result.stderr
    [event] = wait_for(lambda: events_with(marker), timeout=30, message="the v1 trap stored")
    assert event["trap_oid"] == "1.3.6.1.4.1.9999.0.7"  # RFC 3584: enterprise.0.specific
    varbinds = {v["oid"]: v["value"] for v in event["varbinds"]}
    assert varbinds["1.3.6.1.6.3.18.1.3.0"] == "192.0.2.9"  # snmpTrapAddress.0
    assert "1.3.6.1.6.3.18.1.4.0" not in varbinds  # the community is not stored
    assert "mutt-community" not in str(event)


def test_v3_authpriv_trap_and_wrong_key_is_counted(snmp):
    marker = f"v3-{uuid.uuid4().hex[:10]}"
    port = snmp.ports["trap"]
    v3 = ["-v", "3", "-u", USER, "-l", "authPriv", "-a", "SHA", "-x", "AES", "-e", ENGINE_ID]
    result = _send("snmptrap", port, *v3, "-A", AUTH_KEY, "-X", PRIV_KEY, f"udp:127.0.0.1:{port}", *_v2_trap(marker))
    assert result.returncode == 0, result.stderr
    [event] = wait_for(lambda: events_with(marker), timeout=30, message="the v3 trap stored")
    assert event["trap_oid"] == LINK_DOWN and event["snmp_version"] == "v3"

    wrong = f"v3-wrong-{uuid.uuid4().hex[:10]}"
    refused = snmp.metric("mutt_receiver_snmp_refused_total")
    _send("snmptrap", port, *v3, "-A", "not-the-auth-key", "-X", PRIV_KEY, f"udp:127.0.0.1:{port}", *_v2_trap(wrong))
    wait_for(lambda: snmp.metric("mutt_receiver_snmp_refused_total") > refused, timeout=30, message="refusal counted")
    assert snmp.metric("mutt_receiver_snmp_refused_total", reason="authenticationFailure") >= 1
    wait_for(lambda: "refused: authenticationFailure" in snmp.log(), timeout=10, message="refusal logged")
    bad_community = f"v2c-bad-{uuid.uuid4().hex[:10]}"
    _send("snmptrap", port, "-v", "2c", "-c", "guess", f"udp:127.0.0.1:{port}", *_v2_trap(bad_community))
    wait_for(
        lambda: snmp.metric("mutt_receiver_snmp_refused_total", reason="unknownCommunityName") >= 1,
        timeout=30,
        message="unknown community counted",
    )
    assert not events_with(wrong) and not events_with(bad_community)


def test_inform_is_acknowledged_after_it_is_stored(snmp):
    marker = f"inform-{uuid.uuid4().hex[:10]}"
    port = snmp.ports["trap"]
    v3 = ["-v", "3", "-u", USER, "-l", "authPriv", "-a", "SHA", "-x", "AES", "-A", AUTH_KEY, "-X", PRIV_KEY]
    result = _send("snmpinform", port, *v3, f"udp:127.0.0.1:{port}", *_v2_trap(marker))
    assert result.returncode == 0, result.stderr  # snmpinform exits 0 only once acknowledged
    assert len(events_with(marker)) == 1  # already stored when the acknowledgement arrived
    v2 = f"inform-v2c-{uuid.uuid4().hex[:10]}"
    result = _send("snmpinform", port, "-v", "2c", "-c", "mutt-community", f"udp:127.0.0.1:{port}", *_v2_trap(v2))
    assert result.returncode == 0, result.stderr
    [event] = events_with(v2)
    assert event["snmp_pdu"] == "inform"


LINK_UP = "1.3.6.1.6.3.1.1.5.4"


def test_link_down_then_link_up_sent_natively_clear_as_through_snmptrapd(snmp, workers, moog_sink):
    from django.db import connection

    from alerts.models import AlertSignature, EventAuditLog, OidMapping
    from alerts.trap_defaults import standard_traps_load
    from tests.alerts.factories import make_rule

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE event_audit_log")
    standard_traps_load(OidMapping)
    rule = make_rule(match_type="trap_name", match_string="linkDown", prod_handling="Page_and_ticket")
    workers.start("classify,forward")
    port = snmp.ports["trap"]
    target = ["-v", "2c", "-c", "mutt-community", f"udp:127.0.0.1:{port}", ""]

    def bodies():
        return [r["body"] for r in moog_sink.received(accepted_only=True)]

    assert _send("snmptrap", port, *target, LINK_DOWN, f"{IF_INDEX}.5", "i", "5").returncode == 0
    [alert] = wait_for(bodies, timeout=60, message="linkDown delivered")
    assert alert["type"] == "linkDown" and alert["rule_id"] == rule.id
    assert _send("snmptrap", port, *target, LINK_UP, f"{IF_INDEX}.5", "i", "5").returncode == 0
    delivered = wait_for(lambda: len(b := bodies()) >= 2 and b, timeout=60, message="linkUp delivered")
    clear = delivered[1]
    assert clear["severity"] == 0 and clear["signature"] == alert["signature"] and clear["type"] == "linkUp"
    rows = wait_for(lambda: len(r := list(EventAuditLog.objects.all())) >= 2 and r, timeout=30, message="2 audits")
    assert sorted(r.trap_name for r in rows) == ["linkDown", "linkUp"] and len(rows) == 2
    up = next(r for r in rows if r.trap_name == "linkUp")
    down = next(r for r in rows if r.trap_name == "linkDown")
    assert up.clears == down.correlation_id and down.hostname == "127.0.0.1"
    assert AlertSignature.objects.get(signature=alert["signature"]).is_open is False
