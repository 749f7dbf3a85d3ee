"""The rule engine's types and helpers (pure): what a rule is, what a decision is.

Split from ``alerts.rule_engine`` (which re-exports every name here) to keep
modules small; the semantics are described there.
"""

from __future__ import annotations

from dataclasses import dataclass

from alerts.regex import regex_compile_error

CONTAINS = "contains"
REGEX = "regex"
OID_PREFIX = "oid_prefix"
SEVERITY = "severity"
TRAP_NAME = "trap_name"
LOOKUP = "lookup"  # match_string "field=value" on a lookup table's enriched field
# A regex rule with this named group tells instances apart in its signature (e.g. the interface).
INSTANCE_GROUP = "(?P<instance>"

NO_RANK = 1 << 62


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
    clears_rule_id: int | None = None  # this rule's events clear that rule's alerts


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome for one event: which rule, what to do, which team, dev or prod.

    Four fields only: a frozen dataclass pays one ``object.__setattr__`` per
    field, and most events need nothing more. An event with lifecycle facts
    gets a ``LifecycleDecision`` (docs/architecture.md, "Alert lifecycle").
    """

    rule_id: int | None
    handling: str
    team: str
    is_dev: bool
    # The lifecycle facts' values for a plain decision (class attributes, not fields).
    trap_name = None
    is_clear = False
    condition = None
    instance = None
    trap_severity = None

    def signature(self, hostname: str, trap_oid: str | None) -> str:
        """The Moogsoft signature: a clear carries the signature of the alert it clears."""
        condition = self.condition or f"{self.rule_id if self.rule_id is not None else 'none'}:{trap_oid or 'syslog'}"
        return f"{hostname}:{condition}:{self.instance}" if self.instance else f"{hostname}:{condition}"

    @property
    def matched(self) -> bool:
        return self.rule_id is not None


def oid_matches(prefix: str, oid: str | None) -> bool:
    """``oid`` equals ``prefix`` or continues it at an arc boundary."""
    if not oid:
        return False
    return oid == prefix or oid.startswith(prefix + ".")


def severity_ok(rule: RuleSpec, severity) -> bool:
    """The rule's extra condition: the event is at least as severe (numerically ≤)."""
    if rule.syslog_severity is None:
        return True
    return isinstance(severity, int) and severity <= rule.syslog_severity


def usable(rule: RuleSpec) -> bool:
    """Whether the rule can ever match (an unusable rule is left out, never an error)."""
    if rule.match_type == CONTAINS:
        return bool(rule.match_string)
    if rule.match_type == REGEX:
        return bool(rule.match_string) and regex_compile_error(rule.match_string or "") is None
    if rule.match_type == OID_PREFIX:
        return bool(rule.trap_oid)
    if rule.match_type == SEVERITY:
        return rule.syslog_severity is not None
    if rule.match_type == TRAP_NAME:
        return bool(rule.match_string)
    if rule.match_type == LOOKUP:
        return "=" in (rule.match_string or "")
    return False


@dataclass(frozen=True, slots=True)
class LifecycleDecision(Decision):
    """A decision with lifecycle facts: the trap's name, whether the event clears a condition,
    and the condition it raises or clears (``condition`` + ``instance``; None: the default)."""

    trap_name: str | None = None  # type: ignore[assignment]
    is_clear: bool = False  # type: ignore[assignment]
    condition: str | None = None  # type: ignore[assignment]
    instance: str | None = None  # type: ignore[assignment]
    trap_severity: int | None = None  # type: ignore[assignment]  # the mapping's default severity


def oid_arc_prefixes(trap_oid: str) -> list[str]:
    """``1.3.6`` -> ``["1", "1.3", "1.3.6"]``: the prefixes an oid_prefix rule can equal."""
    prefixes = []
    end = trap_oid.find(".")
    while end >= 0:
        prefixes.append(trap_oid[:end])
        end = trap_oid.find(".", end + 1)
    prefixes.append(trap_oid)
    return prefixes
