"""The pure parts of the alert lifecycle (trap index, host patterns, engine, payload) and the audited admin path."""

from __future__ import annotations

import pytest

from alerts.host_patterns import HostPatterns, entry_error
from alerts.models import ConfigAuditLog, OidMapping
from alerts.rule_engine import RuleSet, RuleSpec
from alerts.runtime_catalog import CATALOG
from alerts.services.config import ConfigChange, config_save
from alerts.traps import TrapIndex, TrapMapping, instance_from_varbinds, oid_pattern_matches
from forwarding.payload import moog_payload

LINK_DOWN = TrapMapping(1, "1.3.6.1.6.3.1.1.5.3", "linkDown", clear_oid_pattern="1.3.6.1.6.3.1.1.5.4", instance_varbind="1.3.6.1.2.1.2.2.1.1")  # fmt: skip
LINK_UP = TrapMapping(2, "1.3.6.1.6.3.1.1.5.4", "linkUp")
CISCO_ANY = TrapMapping(3, "1.3.6.1.4.1.9", "ciscoEnterprise", match_kind="prefix")
CISCO_ENV = TrapMapping(4, "1.3.6.1.4.1.9.9.*.3.0.5", "ciscoEnvMon", match_kind="exact")


@pytest.mark.parametrize(
    ("pattern", "kind", "oid", "hit"),
    [
        ("1.3.6.1", "exact", "1.3.6.1", True),
        ("1.3.6.1", "exact", "1.3.6.1.2", False),
        ("1.3.6.1", "prefix", "1.3.6.1.2", True),
        ("1.3.6.1", "prefix", "1.3.6.10", False),  # arc boundary, not a string prefix
        ("1.3.*.1", "exact", "1.3.99.1", True),
        ("1.3.*.1", "exact", "1.3.99.2", False),
    ],
)
def test_oid_patterns(pattern, kind, oid, hit):
    assert oid_pattern_matches(pattern, kind, oid) is hit


def test_trap_index_prefers_exact_then_most_specific_and_knows_clears():
    index = TrapIndex([LINK_DOWN, LINK_UP, CISCO_ANY, CISCO_ENV])
    assert index.resolve("1.3.6.1.6.3.1.1.5.3").mapping.trap_name == "linkDown"
    up = index.resolve("1.3.6.1.6.3.1.1.5.4")
    assert (up.mapping.trap_name, up.clears.trap_name) == ("linkUp", "linkDown")
    assert index.resolve("1.3.6.1.4.1.9.9.13.3.0.5").mapping.trap_name == "ciscoEnvMon"
    assert index.resolve("1.3.6.1.4.1.9.9.13.3.0.6").mapping.trap_name == "ciscoEnterprise"
    assert index.resolve("1.3.6.1.4.1.2636.1").mapping is None


def test_instance_comes_from_the_named_varbind():
    varbinds = [{"oid": "1.3.6.1.2.1.2.2.1.2.3", "value": "Gi0/3"}, {"oid": ".1.3.6.1.2.1.2.2.1.1.3", "value": 3}]
    assert instance_from_varbinds(varbinds, "1.3.6.1.2.1.2.2.1.1") == "3"
    assert instance_from_varbinds(varbinds, "1.3.6.1.9") is None


def test_host_patterns_exact_wildcard_and_cidr():
    hosts = HostPatterns(["Lab-1", "lab-*", "*.dev.example.net", "10.20.0.0/16", "2001:db8::/32"])
    assert "lab-1" in hosts.exact and hosts.has_patterns
    for host in ("lab-1", "lab-99", "api.dev.example.net", "10.20.255.1", "2001:db8::7"):
        assert hosts.matches(host), host
    for host in ("core-1", "dev.example.net", "10.21.0.1", "2001:db9::1", "xlab-1"):
        assert not hosts.matches(host), host
    assert entry_error("10.0.0.0/33") and entry_error("lab-*") is None


def _rules():
    return [
        RuleSpec(1, "trap_name", 500, "Page_only", "Log_only", "NETO", match_string="linkdown"),
        RuleSpec(2, "regex", 400, "Page_only", "Log_only", "NETO", match_string=r"(?P<instance>\S+) is down"),
        RuleSpec(
            3, "regex", 400, "Log_only", "Log_only", "NETO", match_string=r"(?P<instance>\S+) is up", clears_rule_id=2
        ),  # fmt: skip
    ]


def test_engine_matches_trap_names_and_marks_clears_like_the_reference():
    ruleset = RuleSet.compile(_rules(), ["lab-*"], traps=TrapIndex([LINK_DOWN, LINK_UP]))
    varbinds = [{"oid": "1.3.6.1.2.1.2.2.1.1.4", "value": "4"}]
    events = [
        {"hostname": "sw1", "message": "x", "trap_oid": "1.3.6.1.6.3.1.1.5.3", "varbinds": varbinds},
        {"hostname": "sw1", "message": "x", "trap_oid": "1.3.6.1.6.3.1.1.5.4", "varbinds": varbinds},
        {"hostname": "r1", "message": "Gi0/1 is down"},
        {"hostname": "lab-3", "message": "Gi0/1 is up"},
        {"hostname": "r1", "message": "nothing"},
    ]
    decisions = [ruleset.decide(e) for e in events]
    assert decisions == [ruleset.decide_reference(e) for e in events]
    down, up, sys_down, sys_up, none = decisions
    assert (down.rule_id, down.trap_name, down.is_clear) == (1, "linkDown", False)
    assert (up.rule_id, up.trap_name, up.is_clear) == (None, "linkUp", True)
    assert down.signature("sw1", "1.3.6.1.6.3.1.1.5.3") == up.signature("sw1", "1.3.6.1.6.3.1.1.5.4") == "sw1:trap:linkDown:4"  # fmt: skip
    assert sys_down.signature("r1", None) == "r1:2:syslog:Gi0/1" and not sys_down.is_clear
    assert sys_up.is_clear and sys_up.is_dev and sys_up.signature("r1", None) == "r1:2:syslog:Gi0/1"
    assert none.signature("r1", None) == "r1:none:syslog"


def test_clear_payload_has_severity_zero_and_the_trap_name():
    alert = {
        "correlation_id": "c", "hostname": "sw1", "message": "up", "syslog_severity": 5, "trap_oid": "1.3.6.1.6.3.1.1.5.4",
        "source": "snmp", "timestamp": "2026-01-01T00:00:00+00:00", "received_at": "2026-01-01T00:00:00+00:00",
        "rule_id": None, "handling": "Log_only", "team": "NETO", "is_dev": False,
        "trap_name": "linkUp", "signature": "sw1:trap:linkDown:4", "is_clear": True, "repeat_count": 3,
    }  # fmt: skip
    body = moog_payload(alert)
    assert (body["severity"], body["signature"], body["type"], body["repeat_count"]) == (0, "sw1:trap:linkDown:4", "linkUp", 3)  # fmt: skip
    assert body["description"] == "linkUp: up"


def test_fold_window_is_a_runtime_setting_defaulting_to_60(monkeypatch):
    spec = CATALOG["fold_window_seconds"]
    assert (spec.setting, spec.kind, spec.minimum) == ("FOLD_WINDOW_SECONDS", int, 0)
    import importlib

    import mutt_project.settings as project_settings

    monkeypatch.delenv("FOLD_WINDOW_SECONDS", raising=False)  # the test run exports 0
    assert importlib.reload(project_settings).FOLD_WINDOW_SECONDS == 60
    monkeypatch.setenv("FOLD_WINDOW_SECONDS", "0")
    importlib.reload(project_settings)


def test_oid_mapping_saved_through_the_audited_service_and_validated():
    mapping = OidMapping(oid_pattern="1.3.6.1.4.1.30065.*", match_kind="prefix", trap_name="aristaAny")
    config_save(instance=mapping, change=ConfigChange(user="ops", reason="arista"))
    row = ConfigAuditLog.objects.get(table_name="oid_mappings", record_id=mapping.pk)
    assert (row.changed_by, row.operation, row.new_values["trap_name"]) == ("ops", "CREATE", "aristaAny")
    with pytest.raises(Exception, match="dotted numeric"):
        config_save(instance=OidMapping(oid_pattern="1.3.x", trap_name="bad"), change=ConfigChange(user="ops"))


def test_signatures_not_seen_for_the_retention_are_forgotten():
    from datetime import timedelta

    from django.utils import timezone

    from alerts.models import AlertSignature
    from remediation.lifecycle_prune import signatures_prune

    now = timezone.now()
    AlertSignature.objects.create(signature="old", is_open=True, opened_at=now - timedelta(days=30), last_seen_at=now - timedelta(days=8))  # fmt: skip
    AlertSignature.objects.create(signature="recent", is_open=True, opened_at=now - timedelta(days=30), last_seen_at=now - timedelta(days=1))  # fmt: skip
    assert signatures_prune() == 1
    assert list(AlertSignature.objects.values_list("signature", flat=True)) == ["recent"]
