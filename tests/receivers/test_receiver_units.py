"""Pure parts of the receivers: the SNMP event shape, the allow-list, the kernel counter, the source label cap."""

from __future__ import annotations

from datetime import UTC, datetime

from ingest.parsing import Limits, normalise_event
from ingest.receiver_metrics import SourceLabels, udp_rcvbuf_errors
from ingest.receivers import Allowed
from ingest.snmp_format import trap_event

NOW = datetime(2026, 1, 2, 10, 0, tzinfo=UTC)


def test_trap_event_has_the_snmptrapd_relay_shape_and_no_community():
    varbinds = [
        ("1.3.6.1.2.1.1.3.0", "12345"),
        ("1.3.6.1.6.3.1.1.4.1.0", "1.3.6.1.6.3.1.1.5.3"),
        ("1.3.6.1.2.1.2.2.1.1.3", "3"),
        ("1.3.6.1.6.3.18.1.4.0", "secret-community"),
    ]
    event = normalise_event(trap_event(varbinds, "192.0.2.1", NOW, version="v1", inform=False), Limits(), "x")
    assert event["trap_oid"] == "1.3.6.1.6.3.1.1.5.3" and event["source"] == "snmp"
    assert event["message"] == "SNMP trap 1.3.6.1.6.3.1.1.5.3 from 192.0.2.1: 1.3.6.1.2.1.2.2.1.1.3=3"
    assert "secret-community" not in str(event) and len(event["varbinds"]) == 3
    assert (event["hostname"], event["agent_address"], event["snmp_pdu"]) == ("192.0.2.1", "192.0.2.1", "trap")


def test_allow_list_by_cidr_including_mapped_ipv4():
    allowed = Allowed(["10.0.0.0/8", "2001:db8::/32"])
    assert allowed("10.1.2.3") and allowed("::ffff:10.1.2.3") and allowed("2001:db8::1")
    assert not allowed("192.0.2.1") and not allowed("not-an-address")


def test_source_labels_are_capped():
    labels = SourceLabels(2)
    assert [labels(a) for a in ("a", "b", "c", "a")] == ["a", "b", "other", "a"]


def test_udp_rcvbuf_errors_from_proc_format(tmp_path):
    snmp = tmp_path / "snmp"
    snmp.write_text("Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\nUdp: 10 0 3 5 7 0\n")
    assert udp_rcvbuf_errors(str(snmp)) == 7
    assert udp_rcvbuf_errors(str(tmp_path / "missing")) is None
