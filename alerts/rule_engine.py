"""The rule engine: pure Python, no Django, Redis or I/O.

``RuleSet.compile(rules, dev_hosts, teams)`` once per configuration version,
``ruleset.decide(event) -> Decision`` per event. Semantics (DESIGN.md "Rules"):
active rules only, highest priority first, ties by lowest id; the first rule
whose every condition holds wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from alerts.regex import regex_compile

CONTAINS = "contains"
REGEX = "regex"
OID_PREFIX = "oid_prefix"
SEVERITY = "severity"


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """What the engine needs of a rule (built from ``AlertRule`` rows by the caller)."""

    id: int
    match_type: str
    priority: int
    prod_handling: str
    dev_handling: str
    team_assignment: str
    match_string: str | None = None
    trap_oid: str | None = None
    syslog_severity: int | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    rule_id: int | None
    handling: str
    team: str
    is_dev: bool

    @property
    def matched(self) -> bool:
        return self.rule_id is not None


def oid_matches(prefix: str, oid: str | None) -> bool:
    """``oid`` equals ``prefix`` or continues it at an arc boundary."""
    if not oid:
        return False
    return oid == prefix or oid.startswith(prefix + ".")


class RuleSet:
    """A compiled, immutable set of rules plus the host lookups."""

    def __init__(self, rules, dev_hosts, teams, default_handling, default_team):
        self._rules = rules
        self._dev_hosts = dev_hosts
        self._teams = teams
        self._default_handling = default_handling
        self._default_team = default_team

    @classmethod
    def compile(
        cls,
        rules: Iterable[RuleSpec],
        dev_hosts: Iterable[str] = (),
        teams: Mapping[str, str] | None = None,
        *,
        default_handling: str = "Log_only",
        default_team: str = "NETO",
    ) -> RuleSet:
        ordered = sorted(rules, key=lambda r: (-r.priority, r.id))
        compiled = []
        for rule in ordered:
            pattern = regex_compile(rule.match_string) if rule.match_type == REGEX and rule.match_string else None
            compiled.append((rule, pattern))
        return cls(
            compiled,
            frozenset(h.lower() for h in dev_hosts),
            {h.lower(): t for h, t in (teams or {}).items()},
            default_handling,
            default_team,
        )

    def __len__(self) -> int:
        return len(self._rules)

    def _rule_matches(self, rule: RuleSpec, pattern, message: str, trap_oid, severity) -> bool:
        if rule.syslog_severity is not None and (severity is None or severity > rule.syslog_severity):
            return False
        if rule.match_type == CONTAINS:
            return bool(rule.match_string) and rule.match_string in message
        if rule.match_type == REGEX:
            return pattern is not None and pattern.search(message) is not None
        if rule.match_type == OID_PREFIX:
            return bool(rule.trap_oid) and oid_matches(rule.trap_oid, trap_oid)
        if rule.match_type == SEVERITY:
            return rule.syslog_severity is not None
        return False

    def decide(self, event: Mapping) -> Decision:
        hostname = (event.get("hostname") or "").lower()
        message = event.get("message") or ""
        trap_oid = event.get("trap_oid")
        severity = event.get("syslog_severity")
        is_dev = hostname in self._dev_hosts
        team_override = self._teams.get(hostname)
        for rule, pattern in self._rules:
            if self._rule_matches(rule, pattern, message, trap_oid, severity):
                handling = rule.dev_handling if is_dev else rule.prod_handling
                return Decision(rule.id, handling, team_override or rule.team_assignment, is_dev)
        return Decision(None, self._default_handling, team_override or self._default_team, is_dev)
