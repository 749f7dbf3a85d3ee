"""Explain one decision: pure, no Django, Redis or I/O (the rule lab's core).

``explain(ruleset, event)`` answers "why did this event get that handling?":
the winning rule and *why* (the substring or regex span that matched, the
OID arc, the severity condition), every other rule that also matched in
priority order (the runner-ups, so shadowing is visible), the host facts
(development host, device-team override) and the final handling, team and
whether it would be forwarded. It asks the compiled ``RuleSet`` for its
candidates (``matching_ranks``), so the winner is the classifier's winner by
construction; the tests also hold it against ``decide_reference``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from alerts.enrichment import lookup_match
from alerts.rule_engine import CONTAINS, LOOKUP, OID_PREFIX, REGEX, RuleSet, RuleSpec, oid_arc_prefixes


def _match_facts(ruleset: RuleSet, rank: int, rule: RuleSpec, event: Mapping) -> dict:
    """What in the event satisfied the rule's main criterion."""
    message = event.get("message") or ""
    if rule.match_type == CONTAINS:
        start = message.find(rule.match_string)
        return {"substring": rule.match_string, "span": [start, start + len(rule.match_string)]}
    if rule.match_type == REGEX:
        found = ruleset.regex_for(rank).search(message)
        start, end = found.span()
        return {"pattern": rule.match_string, "span": [start, end], "matched_text": message[start:end]}
    if rule.match_type == OID_PREFIX:
        trap_oid = event.get("trap_oid") or ""
        arcs = oid_arc_prefixes(trap_oid)
        return {
            "rule_oid": rule.trap_oid,
            "event_oid": trap_oid,
            "arcs_matched": arcs.index(rule.trap_oid) + 1,  # how many arcs of the event OID the prefix covers
            "exact": rule.trap_oid == trap_oid,
        }
    if rule.match_type == LOOKUP:
        field, value = lookup_match(rule.match_string or "")
        return {"enriched_field": field, "value": value, "enrichment": ruleset.lookups.enrich(event)}
    return {}  # a severity rule has no criterion besides the severity condition


def _severity_facts(rule: RuleSpec, event: Mapping) -> dict | None:
    if rule.syslog_severity is None:
        return None
    return {
        "rule_max_severity": rule.syslog_severity,
        "event_severity": event.get("syslog_severity"),
        "condition": f"event severity {event.get('syslog_severity')} <= {rule.syslog_severity}",
    }


def _rule_report(ruleset: RuleSet, rank: int, event: Mapping, draft_ids: Collection[int]) -> dict:
    rule = ruleset.rules[rank]
    return {
        "rule_id": rule.id,
        "draft": rule.id in draft_ids,
        "priority": rule.priority,
        "match_type": rule.match_type,
        "match": _match_facts(ruleset, rank, rule, event),
        "severity": _severity_facts(rule, event),
        "team_assignment": rule.team_assignment,
        "prod_handling": rule.prod_handling,
        "dev_handling": rule.dev_handling,
    }


def explain(
    ruleset: RuleSet,
    event: Mapping,
    *,
    forward_handlings: Collection[str] = ("Page_and_ticket", "Page_only", "Ticket_only"),
    draft_ids: Collection[int] = (),
) -> dict:
    """The full decision for one normalised event, as a JSON-serialisable dict."""
    ranks = ruleset.matching_ranks(event)
    hostname = (event.get("hostname") or "").lower()
    is_dev, team_override = ruleset.host_facts(hostname)
    winner_rank = ranks[0] if ranks else None
    decision = ruleset.decision_for(winner_rank, hostname)
    if team_override is not None:
        team_source = "device_team"
    else:
        team_source = "rule" if decision.rule_id is not None else "default"
    if decision.rule_id is None:
        handling_source = "default"
    else:
        handling_source = "dev_handling" if is_dev else "prod_handling"
    return {
        "decision": {
            "rule_id": decision.rule_id,
            "matched": decision.matched,
            "handling": decision.handling,
            "team": decision.team,
            "is_dev": decision.is_dev,
            "forwarded": decision.handling in forward_handlings,
        },
        "winner": None if winner_rank is None else _rule_report(ruleset, winner_rank, event, draft_ids),
        "runners_up": [_rule_report(ruleset, rank, event, draft_ids) for rank in ranks[1:]],
        "host": {
            "hostname": hostname,
            "is_dev": is_dev,
            "team_override": team_override,
            "handling_from": handling_source,
            "team_from": team_source,
        },
    }
