"""The rule engine alone (pure: no database, no Redis)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.rule_engine import RuleSet, RuleSpec


def rule(id, match_type="contains", priority=100, **kw) -> RuleSpec:
    spec = {"prod_handling": "Page_and_ticket", "dev_handling": "Email_only", "team_assignment": "NETO"} | kw
    return RuleSpec(id=id, match_type=match_type, priority=priority, **spec)


def decide(rules, event, dev_hosts=(), teams=None):
    return RuleSet.compile(rules, dev_hosts, teams).decide(event)


def test_highest_priority_wins():
    rules = [rule(1, match_string="down", priority=10), rule(2, match_string="link", priority=900)]
    assert decide(rules, {"hostname": "r1", "message": "link down"}).rule_id == 2


def test_priority_tie_goes_to_lowest_id():
    rules = [rule(7, match_string="down", priority=500), rule(3, match_string="link", priority=500)]
    assert decide(rules, {"hostname": "r1", "message": "link down"}).rule_id == 3


def test_contains_is_case_sensitive_substring():
    rules = [rule(1, match_string="Link Down")]
    assert decide(rules, {"hostname": "r1", "message": "%LINK: Link Down on Gi0/1"}).rule_id == 1
    assert decide(rules, {"hostname": "r1", "message": "link down"}).rule_id is None


def test_contains_treats_regex_characters_literally():
    rules = [rule(1, match_string="a.b(c)*")]
    assert decide(rules, {"hostname": "r1", "message": "xx a.b(c)* yy"}).rule_id == 1
    assert decide(rules, {"hostname": "r1", "message": "axbccc"}).rule_id is None


def test_regex_searches_the_message():
    rules = [rule(1, "regex", match_string=r"Interface \S+ .*down")]
    assert decide(rules, {"hostname": "r1", "message": "Interface Gi0/1 changed to down"}).rule_id == 1
    assert decide(rules, {"hostname": "r1", "message": "Interface Gi0/1 up"}).rule_id is None


def test_oid_prefix_matches_only_at_an_arc_boundary():
    rules = [rule(1, "oid_prefix", trap_oid="1.3.6.1.4.1.9")]
    assert decide(rules, {"hostname": "r", "message": "m", "trap_oid": "1.3.6.1.4.1.9"}).rule_id == 1
    assert decide(rules, {"hostname": "r", "message": "m", "trap_oid": "1.3.6.1.4.1.9.9.41"}).rule_id == 1
    assert decide(rules, {"hostname": "r", "message": "m", "trap_oid": "1.3.6.1.4.1.99"}).rule_id is None
    assert decide(rules, {"hostname": "r", "message": "m", "trap_oid": "1.3.6.1.4.1"}).rule_id is None
    assert decide(rules, {"hostname": "r", "message": "m"}).rule_id is None


def test_longer_oid_prefix_with_higher_priority_wins():
    rules = [
        rule(1, "oid_prefix", trap_oid="1.3.6", priority=100),
        rule(2, "oid_prefix", trap_oid="1.3.6.1.4.1.9", priority=200),
    ]
    assert decide(rules, {"hostname": "r", "message": "m", "trap_oid": "1.3.6.1.4.1.9.1"}).rule_id == 2
    assert decide(rules, {"hostname": "r", "message": "m", "trap_oid": "1.3.6.1.4.1.8"}).rule_id == 1


def test_severity_rule_matches_events_at_least_that_severe():
    rules = [rule(1, "severity", syslog_severity=3)]
    assert decide(rules, {"hostname": "r", "message": "m", "syslog_severity": 2}).rule_id == 1
    assert decide(rules, {"hostname": "r", "message": "m", "syslog_severity": 3}).rule_id == 1
    assert decide(rules, {"hostname": "r", "message": "m", "syslog_severity": 4}).rule_id is None
    assert decide(rules, {"hostname": "r", "message": "m"}).rule_id is None


def test_rule_severity_is_an_extra_condition_on_text_rules():
    rules = [rule(1, match_string="down", syslog_severity=3, priority=900), rule(2, match_string="down")]
    assert decide(rules, {"hostname": "r", "message": "down", "syslog_severity": 1}).rule_id == 1
    assert decide(rules, {"hostname": "r", "message": "down", "syslog_severity": 6}).rule_id == 2
    assert decide(rules, {"hostname": "r", "message": "down"}).rule_id == 2


def test_dev_host_gets_dev_handling_whatever_the_case():
    rules = [rule(1, match_string="down")]
    dev = decide(rules, {"hostname": "Lab-Router-7", "message": "down"}, dev_hosts=["LAB-router-7"])
    prod = decide(rules, {"hostname": "core-1", "message": "down"}, dev_hosts=["LAB-router-7"])
    assert (dev.handling, dev.is_dev) == ("Email_only", True)
    assert (prod.handling, prod.is_dev) == ("Page_and_ticket", False)


def test_device_team_overrides_the_rule_team():
    rules = [rule(1, match_string="down", team_assignment="NETO")]
    assert decide(rules, {"hostname": "DB-1", "message": "down"}, teams={"db-1": "DBA"}).team == "DBA"
    assert decide(rules, {"hostname": "db-2", "message": "down"}, teams={"db-1": "DBA"}).team == "NETO"


def test_unmatched_event_gets_the_default_handling_and_team_override():
    ruleset = RuleSet.compile(
        [rule(1, match_string="down")], ["lab-1"], {"lab-1": "LAB"}, default_handling="Log_only", default_team="NETO"
    )
    decision = ruleset.decide({"hostname": "lab-1", "message": "all fine"})
    assert (decision.rule_id, decision.handling, decision.team, decision.is_dev) == (None, "Log_only", "LAB", True)


def test_catastrophic_backtracking_pattern_is_decided_on_a_50kb_message():
    ruleset = RuleSet.compile([rule(1, "regex", match_string="(a+)+$")])
    assert ruleset.decide({"hostname": "h", "message": "a" * 50_000 + "!"}).rule_id is None
    assert ruleset.decide({"hostname": "h", "message": "a" * 50_000}).rule_id == 1


def test_a_pattern_re2_refuses_is_left_out_not_fatal():
    ruleset = RuleSet.compile([rule(1, "regex", match_string=r"(a)\1"), rule(2, match_string="aa")])
    assert ruleset.decide({"hostname": "h", "message": "aa"}).rule_id == 2
    assert [r.id for r in ruleset.skipped] == [1]


# ---------------------------------------------------------------------------
# The indexed engine agrees with the rule-by-rule specification.
# ---------------------------------------------------------------------------

ALPHABET = "ab.x1 "
texts = st.text(alphabet=ALPHABET, min_size=1, max_size=4)
oids = st.lists(st.sampled_from(["1", "3", "6", "9", "99"]), min_size=1, max_size=4).map(".".join)
severities = st.one_of(st.none(), st.integers(0, 7))
regexes = st.sampled_from(["a+b", "^ab", "x$", "(a|b)x", r"\.1", "[ab]{2}", "a.*1"])


@st.composite
def rule_specs(draw, id):
    kind = draw(st.sampled_from(["contains", "regex", "oid_prefix", "severity"]))
    extra = {
        "syslog_severity": draw(severities),
        "priority": draw(st.integers(1, 5)),
        "team_assignment": draw(st.sampled_from(["NETO", "SRV"])),
    }
    if kind == "contains":
        return rule(id, kind, match_string=draw(texts), **extra)
    if kind == "regex":
        return rule(id, kind, match_string=draw(regexes), **extra)
    if kind == "oid_prefix":
        return rule(id, kind, trap_oid=draw(oids), **extra)
    return rule(id, kind, **(extra | {"syslog_severity": draw(st.integers(0, 7))}))


rule_lists = st.integers(0, 12).flatmap(lambda n: st.tuples(*[rule_specs(i + 1) for i in range(n)]))
events = st.fixed_dictionaries(
    {"hostname": st.sampled_from(["r1", "R1", "lab", "db"]), "message": st.text(alphabet=ALPHABET, max_size=12)},
    optional={"trap_oid": oids, "syslog_severity": st.integers(0, 7)},
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_lists, st.lists(events, min_size=1, max_size=8))
def test_indexed_engine_agrees_with_rule_by_rule_reference(rules, event_list):
    ruleset = RuleSet.compile(rules, dev_hosts=["LAB"], teams={"db": "DBA"})
    for event in event_list:
        assert ruleset.decide(event) == ruleset.decide_reference(event)
