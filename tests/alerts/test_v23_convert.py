"""v2.3 -> MUTT conversions: priorities keep the same winner, severities and handlings map, sample rules agree."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alerts.rule_engine import RuleSet, RuleSpec
from alerts.sample_data import SAMPLE_RULES
from alerts.v23 import handling_convert, priorities_convert, severity_convert, v23_winner


def _lower_wins(priorities: dict[int, int]) -> list[int]:
    return sorted(priorities, key=lambda rid: (priorities[rid], rid))


def _higher_wins(priorities: dict[int, int]) -> list[int]:
    return sorted(priorities, key=lambda rid: (-priorities[rid], rid))


@given(st.dictionaries(st.integers(1, 10_000), st.integers(-5_000, 50_000), min_size=1, max_size=200))
def test_converted_priorities_rank_rules_exactly_as_v23_did(priorities):
    converted = priorities_convert(priorities)
    assert all(1 <= p <= 1000 for p in converted.values())
    assert _higher_wins(converted) == _lower_wins(priorities)


def test_priorities_within_range_read_back_as_1001_minus():
    assert priorities_convert({1: 5, 2: 10, 3: 100, 4: 1}) == {1: 996, 2: 991, 3: 901, 4: 1000}


@pytest.mark.parametrize(
    ("given_value", "expected"), [("Critical", 2), ("warning", 4), ("3", 3), (None, None), ("", None), (0, 0)]
)
def test_severity_names_become_syslog_numbers(given_value, expected):
    assert severity_convert(given_value) == expected


def test_unknown_severity_is_refused():
    with pytest.raises(ValueError, match="severity"):
        severity_convert("loud")


def test_ignore_becomes_suppress():
    assert handling_convert("Ignore") == "Suppress" and handling_convert("Page_only") == "Page_only"


# The v2.3 sample rules as v2.3 had them (lower wins), keyed by their match.
V23_SAMPLE = [
    {"id": 1, "match_string": "Interface down", "trap_oid": None, "syslog_severity": None,
     "match_type": "contains", "priority": 10},
    {"id": 2, "match_string": None, "trap_oid": "1.3.6.1.4.1.9.1.1.1.1", "syslog_severity": None,
     "match_type": "oid_prefix", "priority": 5},
    {"id": 3, "match_string": "CPU utilization", "trap_oid": None, "syslog_severity": "Critical",
     "match_type": "contains", "priority": 20},
    {"id": 4, "match_string": "WARNING", "trap_oid": None, "syslog_severity": None,
     "match_type": "contains", "priority": 100},
]  # fmt: skip
EVENTS = [
    {"hostname": "r1", "message": "WARNING: Interface down on Gi0/1", "syslog_severity": 4, "trap_oid": None},
    {"hostname": "r1", "message": "WARNING OSPF neighbor down", "syslog_severity": 4, "trap_oid": "1.3.6.1.4.1.9.1.1.1.1.2"},
    {"hostname": "r1", "message": "CPU utilization WARNING 97%", "syslog_severity": 2, "trap_oid": None},
    {"hostname": "r1", "message": "WARNING fan slow", "syslog_severity": 4, "trap_oid": None},
]  # fmt: skip


def test_shipped_sample_rules_pick_the_rule_v23_picked():
    specs = []
    for n, rule in enumerate(SAMPLE_RULES, start=1):
        specs.append(RuleSpec(id=n, **{k: rule.get(k) for k in ("match_type", "priority", "prod_handling",
                     "dev_handling", "team_assignment", "match_string", "trap_oid", "syslog_severity")}))  # fmt: skip
    ruleset = RuleSet.compile(specs)
    by_match = {(r.match_string, r.trap_oid): r.id for r in specs}
    for event in EVENTS:
        v23 = next(r for r in V23_SAMPLE if r["id"] == v23_winner(V23_SAMPLE, event))
        assert ruleset.decide(event).rule_id == by_match[(v23["match_string"], v23["trap_oid"])], event
    # and the catch-all WARNING does not outrank the v2.5 guide's CRITICAL
    assert ruleset.decide({"hostname": "r1", "message": "CRITICAL WARNING", "syslog_severity": 2}).rule_id == 1
