"""Explain (pure): the same winner as the rule-by-rule specification, and the exact runner-ups."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.rule_engine import RuleSet
from alerts.rule_explain import explain
from tests.alerts.test_rule_engine import events, rule, rule_lists

HOSTS = ["r1", "R1", "lab", "db"]


def _reference_matches(ruleset: RuleSet, event: dict) -> list[int]:
    """Every rule whose conditions hold, in priority order, by the reference loop one rule at a time."""
    return [r.id for r in ruleset.rules if RuleSet.compile([r]).decide_reference(event).matched]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rule_lists,
    st.lists(events, min_size=1, max_size=8),
    st.lists(st.sampled_from(HOSTS), max_size=2),
    st.dictionaries(st.sampled_from(HOSTS), st.sampled_from(["DBA", "LAB"]), max_size=2),
)
def test_explain_winner_and_runner_ups_agree_with_the_reference(rules, event_list, dev_hosts, teams):
    ruleset = RuleSet.compile(rules, dev_hosts=dev_hosts, teams=teams)
    for event in event_list:
        reference = ruleset.decide_reference(event)
        report = explain(ruleset, event)
        decision = report["decision"]
        assert (decision["rule_id"], decision["handling"], decision["team"], decision["is_dev"]) == (
            reference.rule_id,
            reference.handling,
            reference.team,
            reference.is_dev,
        )
        assert (report["winner"] or {}).get("rule_id") == reference.rule_id
        expected = _reference_matches(ruleset, event)
        assert [r["rule_id"] for r in report["runners_up"]] == expected[1:]
        assert report["host"]["is_dev"] == (event["hostname"].lower() in {h.lower() for h in dev_hosts})
        assert report["host"]["team_override"] == {h.lower(): t for h, t in teams.items()}.get(
            event["hostname"].lower()
        )


def test_explain_reports_the_substring_span_and_the_shadowed_runner_up():
    ruleset = RuleSet.compile(
        [rule(1, match_string="down", priority=100), rule(2, match_string="link", priority=900)],
    )
    report = explain(ruleset, {"hostname": "r1", "message": "link down"})
    assert report["winner"]["rule_id"] == 2
    assert report["winner"]["match"] == {"substring": "link", "span": [0, 4]}
    assert [r["rule_id"] for r in report["runners_up"]] == [1]
    assert report["runners_up"][0]["match"]["span"] == [5, 9]
    assert report["decision"]["forwarded"] is True


def test_explain_reports_the_regex_span_and_text():
    ruleset = RuleSet.compile([rule(1, "regex", match_string=r"Gi\d+/\d+")])
    report = explain(ruleset, {"hostname": "r1", "message": "Interface Gi0/1 down"})
    assert report["winner"]["match"]["span"] == [10, 15]
    assert report["winner"]["match"]["matched_text"] == "Gi0/1"


def test_explain_reports_the_oid_arc_and_not_a_longer_number():
    ruleset = RuleSet.compile([rule(1, "oid_prefix", trap_oid="1.3.6.1.4.1.9")])
    report = explain(ruleset, {"hostname": "r", "message": "m", "trap_oid": "1.3.6.1.4.1.9.9.41"})
    assert report["winner"]["match"] == {
        "rule_oid": "1.3.6.1.4.1.9",
        "event_oid": "1.3.6.1.4.1.9.9.41",
        "arcs_matched": 7,
        "exact": False,
    }
    assert explain(ruleset, {"hostname": "r", "message": "m", "trap_oid": "1.3.6.1.4.1.99"})["winner"] is None


def test_explain_reports_the_severity_condition_dev_host_and_team_override():
    ruleset = RuleSet.compile(
        [rule(1, match_string="down", syslog_severity=3, team_assignment="NETO")],
        dev_hosts=["lab-1"],
        teams={"lab-1": "LAB"},
    )
    report = explain(ruleset, {"hostname": "LAB-1", "message": "down", "syslog_severity": 2})
    assert report["winner"]["severity"]["condition"] == "event severity 2 <= 3"
    assert report["decision"]["handling"] == "Email_only"
    assert report["decision"]["team"] == "LAB"
    assert report["decision"]["forwarded"] is False
    assert report["host"] == {
        "hostname": "lab-1",
        "is_dev": True,
        "team_override": "LAB",
        "handling_from": "dev_handling",
        "team_from": "device_team",
    }
    # Not severe enough: nothing matches, the default applies, the override still does.
    unmatched = explain(ruleset, {"hostname": "lab-1", "message": "down", "syslog_severity": 5})
    assert unmatched["winner"] is None
    assert unmatched["decision"]["handling"] == "Log_only"
    assert unmatched["host"]["handling_from"] == "default"


# ---------------------------------------------------------------------------
# The backtest's pre-filter: an event that no draft rule and no rule the draft
# edits or removes can match keeps its decision (so the backtest skips it).
# ---------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_lists, rule_lists, st.sets(st.integers(1, 12), max_size=3), st.lists(events, min_size=1, max_size=8))
def test_events_no_touched_rule_matches_keep_their_decision(live, added, removed_ids, event_list):
    live_by_id = {r.id: r for r in live}
    # Draft: new rules get ids above the live ones; some live rules are removed.
    draft_rules = [r.__class__(**{**{f: getattr(r, f) for f in r.__slots__}, "id": 100 + r.id}) for r in added]
    kept = [r for r in live if r.id not in removed_ids]
    touched = RuleSet.compile([*draft_rules, *(live_by_id[i] for i in removed_ids if i in live_by_id)])
    before = RuleSet.compile(live, dev_hosts=["lab"], teams={"db": "DBA"})
    after = RuleSet.compile([*kept, *draft_rules], dev_hosts=["lab"], teams={"db": "DBA"})
    for event in event_list:
        if not touched.matches_any(event["message"], event.get("trap_oid"), event.get("syslog_severity")):
            assert before.decide(event) == after.decide(event)


@pytest.mark.django_db
def test_the_rule_lab_sees_a_rule_exactly_as_classification_does():
    """One mapping from a rule to the engine's spec: a clear rule's link survives into a draft's set."""
    from alerts.models import AlertRule
    from alerts.selectors import rule_spec, rules_active_specs

    down = AlertRule.objects.create(match_type="contains", match_string="changed state to down", priority=500, prod_handling="Page_only", dev_handling="Log_only", team_assignment="NETO")  # fmt: skip
    up = AlertRule.objects.create(match_type="contains", match_string="changed state to up", priority=500, prod_handling="Page_only", dev_handling="Log_only", team_assignment="NETO", clears_rule=down)  # fmt: skip

    live = {s.id: s for s in rules_active_specs()}
    assert rule_spec(up) == live[up.id]
    assert rule_spec(up).clears_rule_id == down.id
    assert rule_spec(up, rule_id=99).id == 99
