"""The rule engine: pure Python, no Django, Redis or I/O.

``RuleSet.compile(rules, dev_hosts, teams)`` once per configuration version, ``ruleset.decide(event)``
per event. Semantics (docs/architecture.md, "Rules"): active rules only, highest priority first,
ties by lowest id; the first rule whose every condition holds wins.

Not a loop over the rules (100 rules one by one cost ~50 µs per event): each
rule gets its *rank* (priority order) and each index answers "which ranks match?":

- ``contains`` and ``regex`` rules are the patterns of one RE2 ``Set``: one
  linear-time scan of the message returns all text matches at once;
- ``oid_prefix`` rules: a dict by prefix, walked by the event OID's arc prefixes;
- ``trap_name`` rules: a dict by lower-cased trap name (``alerts.traps.TrapIndex``);
- ``severity`` rules: an 8-entry table, the best rank each event severity satisfies;
- ``lookup`` rules (``criticality=high``): a dict by (field, value) of the event's
  enriched fields (``alerts.enrichment``).

The winner is the lowest candidate rank passing its extra condition (``syslog_severity``): exactly
the first match of the priority-ordered loop (``RuleSet.decide_reference``, the tests' reference).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import re2

from alerts.enrichment import Lookups, lookup_match
from alerts.regex import regex_compile
from alerts.rule_types import (  # noqa: F401  (re-exported: the engine's public names)
    CONTAINS,
    INSTANCE_GROUP,
    LOOKUP,
    NO_RANK,
    OID_PREFIX,
    REGEX,
    SEVERITY,
    TRAP_NAME,
    Decision,
    LifecycleDecision,
    RuleSpec,
    oid_arc_prefixes,
    oid_matches,
)
from alerts.rule_types import severity_ok as _severity_ok
from alerts.rule_types import usable as _usable
from alerts.traps import TrapFacts, TrapIndex, instance_from_varbinds

_NO_RANK = NO_RANK
# A Set over a thousand patterns needs more DFA memory than RE2's 8 MiB default,
# and RE2::Set (unlike a single RE2) has no slower fallback when its DFA runs
# out: give it room (the bench checks 1,000 rules against the reference).
_SET_MAX_MEM = 256 << 20


_DECISION_CACHE_SIZE = 65536  # (rank, host) pairs remembered per RuleSet


class RuleSet:
    """A compiled, immutable set of rules plus the host lookups."""

    def __init__(
        self,
        ordered: list[RuleSpec],
        dev_hosts: frozenset[str],
        teams: dict[str, str],
        default_handling: str,
        default_team: str,
        skipped: list[RuleSpec],
        traps: TrapIndex | None = None,
        dev_patterns=None,
        windows: tuple = (),
        lookups: Lookups | None = None,
    ):
        self._ordered = ordered  # rank -> rule
        self.lookups = lookups or Lookups()  # enrichment tables, compiled with the rules
        self._lookup_ranks: dict[tuple[str, str], list[int]] = {}  # (field, value) -> ranks, best first
        self._dev_hosts = dev_hosts
        self._teams = teams
        self._default_handling = default_handling
        self._default_team = default_team
        self.skipped = skipped  # rules that can never match (e.g. a pattern RE2 refuses)
        self._text_set = None
        self._text_ranks: list[int] = []  # Set pattern index -> rank
        self._oid_ranks: dict[str, list[int]] = {}  # prefix -> ranks, best first
        self._severity_best: list[int] = [_NO_RANK] * 8  # event severity -> best severity-rule rank
        self._severity_ranks: list[list[int]] = [[] for _ in range(8)]  # event severity -> all ranks (explain)
        self._needs_severity = [r.syslog_severity is not None for r in ordered]
        self._regex: dict[int, Any] = {}  # rank -> compiled pattern, for the reference implementation only
        self._trap_name_ranks: dict[str, list[int]] = {}  # lower-cased trap name -> ranks, best first
        self._instance_regex: dict[int, Any] = {}  # rank -> pattern with an ``instance`` group
        self._lifecycle_ranks: frozenset[int] = frozenset()  # ranks that clear or name an instance
        self._traps = traps
        self.windows = list(windows)  # alerts.maintenance.Window, compiled with the rules
        self._dev_patterns = dev_patterns  # alerts.host_patterns.HostPatterns or None
        # (rank, lower-cased hostname) -> Decision: a Decision is immutable and depends on
        # nothing else, so repeat senders (most traffic) skip the host lookups and the object.
        self._decisions: dict[tuple[int, str], Decision] = {}
        self._build()

    @classmethod
    def compile(
        cls,
        rules: Iterable[RuleSpec],
        dev_hosts: Iterable[str] = (),
        teams: Mapping[str, str] | None = None,
        *,
        traps: TrapIndex | None = None,
        windows: Iterable = (),
        lookups: Lookups | None = None,
        default_handling: str = "Log_only",
        default_team: str = "NETO",
    ) -> RuleSet:
        from alerts.host_patterns import HostPatterns

        usable: list[RuleSpec] = []
        skipped: list[RuleSpec] = []
        for rule in rules:
            (usable if _usable(rule) else skipped).append(rule)
        usable.sort(key=lambda r: (-r.priority, r.id))
        dev = HostPatterns(dev_hosts)
        return cls(
            usable,
            dev.exact,
            {h.lower(): t for h, t in (teams or {}).items()},
            default_handling,
            default_team,
            skipped,
            traps,
            dev if dev.has_patterns else None,
            tuple(windows),
            lookups,
        )

    def _build(self) -> None:
        options = re2.Options()
        options.max_mem = _SET_MAX_MEM
        options.log_errors = False
        text_set = re2.Set.SearchSet(options)
        for rank, rule in enumerate(self._ordered):
            if rule.match_type in (CONTAINS, REGEX):
                text = rule.match_string or ""  # usable rules have one
                pattern = re2.escape(text) if rule.match_type == CONTAINS else text
                text_set.Add(pattern)
                self._text_ranks.append(rank)
                if rule.match_type == REGEX:
                    self._regex[rank] = regex_compile(text)
            elif rule.match_type == OID_PREFIX:
                self._oid_ranks.setdefault(rule.trap_oid or "", []).append(rank)
            elif rule.match_type == TRAP_NAME:
                self._trap_name_ranks.setdefault((rule.match_string or "").lower(), []).append(rank)
            elif rule.match_type == LOOKUP:
                self._lookup_ranks.setdefault(lookup_match(rule.match_string or ""), []).append(rank)
            elif rule.match_type == SEVERITY:
                for event_severity in range((rule.syslog_severity or 0) + 1):
                    self._severity_best[event_severity] = min(self._severity_best[event_severity], rank)
                    self._severity_ranks[event_severity].append(rank)
        if self._text_ranks:
            text_set.Compile()
            self._text_set = text_set
        lifecycle = set()
        for rank, rule in enumerate(self._ordered):
            if rule.match_type == REGEX and INSTANCE_GROUP in (rule.match_string or ""):
                self._instance_regex[rank] = self._regex[rank]
                lifecycle.add(rank)
            if rule.clears_rule_id is not None:
                lifecycle.add(rank)
        self._lifecycle_ranks = frozenset(lifecycle)

    def __len__(self) -> int:
        return len(self._ordered)

    def _best_rank(self, message: str, trap_oid, severity, trap_name: str | None = None, enriched=None) -> int:
        ordered = self._ordered
        needs_severity = self._needs_severity
        best = _NO_RANK
        if isinstance(severity, int) and 0 <= severity <= 7:
            best = self._severity_best[severity]
        if enriched:
            for item in enriched.items():
                for rank in self._lookup_ranks.get(item, ()):
                    if rank >= best:
                        break
                    if not needs_severity[rank] or _severity_ok(ordered[rank], severity):
                        best = rank
                        break
        if trap_name is not None and self._trap_name_ranks:
            for rank in self._trap_name_ranks.get(trap_name.lower(), ()):
                if rank >= best:
                    break
                if not needs_severity[rank] or _severity_ok(ordered[rank], severity):
                    best = rank
                    break
        if self._text_set is not None and message:
            text_ranks = self._text_ranks
            for index in self._text_set.Match(message) or ():  # None when nothing matches
                rank = text_ranks[index]
                if rank < best and (not needs_severity[rank] or _severity_ok(ordered[rank], severity)):
                    best = rank
        if trap_oid and self._oid_ranks:
            oid_ranks = self._oid_ranks
            prefix_end = trap_oid.find(".")
            while True:
                prefix = trap_oid if prefix_end < 0 else trap_oid[:prefix_end]
                for rank in oid_ranks.get(prefix, ()):
                    if rank >= best:
                        break  # ranks are ascending: nothing better under this prefix
                    if not needs_severity[rank] or _severity_ok(ordered[rank], severity):
                        best = rank
                        break
                if prefix_end < 0:
                    break
                prefix_end = trap_oid.find(".", prefix_end + 1)
        return best

    def _is_dev(self, hostname: str) -> bool:
        if hostname in self._dev_hosts:
            return True
        return self._dev_patterns is not None and self._dev_patterns.matches(hostname)

    def _decision(self, rule: RuleSpec | None, hostname: str) -> Decision:
        is_dev = hostname in self._dev_hosts or (
            self._dev_patterns is not None and self._dev_patterns.matches(hostname)
        )
        team_override = self._teams.get(hostname)
        if rule is None:
            return Decision(None, self._default_handling, team_override or self._default_team, is_dev)
        handling = rule.dev_handling if is_dev else rule.prod_handling
        return Decision(rule.id, handling, team_override or rule.team_assignment, is_dev)

    def _trap_facts(self, trap_oid) -> TrapFacts | None:
        if not trap_oid or self._traps is None or not isinstance(trap_oid, str):
            return None
        facts = self._traps.resolve(trap_oid)
        return facts if facts.mapping is not None or facts.clears is not None else None

    def _lifecycle_decision(self, rank: int, hostname: str, event: Mapping, facts: TrapFacts | None) -> Decision:
        """The decision with its lifecycle facts (only for trap events and rules that clear or name instances)."""
        rule = self._ordered[rank] if rank != _NO_RANK else None
        base = self._decision(rule, hostname)
        trap_name = condition = instance = severity = None
        is_clear = False
        if facts is not None:
            own, clears = facts.mapping, facts.clears
            trap_name = own.trap_name if own is not None else None
            severity = own.default_severity if own is not None else None
            raised = clears if clears is not None else own
            is_clear = clears is not None
            if raised is not None:
                condition = f"trap:{raised.trap_name}"
                varbind = raised.instance_varbind or (own.instance_varbind if own is not None else None)
                instance = instance_from_varbinds(event.get("varbinds"), varbind)
        elif rule is not None:
            if rule.clears_rule_id is not None:
                is_clear = True
                condition = f"{rule.clears_rule_id}:syslog"
            pattern = self._instance_regex.get(rank)
            if pattern is not None:
                match = pattern.search(event.get("message") or "")
                instance = match.group("instance") if match is not None else None
        if trap_name is None and condition is None and instance is None and severity is None:
            return base
        return LifecycleDecision(
            base.rule_id, base.handling, base.team, base.is_dev, trap_name, is_clear, condition, instance, severity
        )

    def decide(self, event: Mapping) -> Decision:
        """The decision for one normalised event (keys as stored by ingest)."""
        hostname = (event.get("hostname") or "").lower()
        trap_oid = event.get("trap_oid")
        if trap_oid and self._traps is not None:
            facts = self._trap_facts(trap_oid)
            trap_name = facts.mapping.trap_name if facts is not None and facts.mapping is not None else None
        else:
            facts = trap_name = None
        enriched = self.lookups.enrich(event) if self._lookup_ranks else None
        rank = self._best_rank(event.get("message") or "", trap_oid, event.get("syslog_severity"), trap_name, enriched)
        if facts is not None or (self._lifecycle_ranks and rank in self._lifecycle_ranks):
            return self._lifecycle_decision(rank, hostname, event, facts)
        decision = self._decisions.get((rank, hostname))
        if decision is None:
            decision = self._decision(self._ordered[rank] if rank != _NO_RANK else None, hostname)
            if len(self._decisions) >= _DECISION_CACHE_SIZE:
                self._decisions.clear()  # many distinct hosts: start over rather than grow
            self._decisions[(rank, hostname)] = decision
        return decision

    def decide_reference(self, event: Mapping) -> Decision:
        """The specification, rule by rule in priority order: slow, for tests only."""
        hostname = (event.get("hostname") or "").lower()
        message = event.get("message") or ""
        trap_oid = event.get("trap_oid")
        severity = event.get("syslog_severity")
        facts = self._trap_facts(trap_oid)
        trap_name = facts.mapping.trap_name if facts is not None and facts.mapping is not None else None
        enriched = self.lookups.enrich(event) or {}
        for rank, rule in enumerate(self._ordered):
            if not _severity_ok(rule, severity):
                continue
            if rule.match_type == CONTAINS:
                hit = rule.match_string in message
            elif rule.match_type == REGEX:
                hit = self._regex[rank].search(message) is not None
            elif rule.match_type == OID_PREFIX:
                hit = oid_matches(rule.trap_oid or "", trap_oid)
            elif rule.match_type == TRAP_NAME:
                hit = trap_name is not None and trap_name.lower() == (rule.match_string or "").lower()
            elif rule.match_type == LOOKUP:
                hit = lookup_match(rule.match_string or "") in enriched.items()
            else:
                hit = True  # severity rule: its only condition is the one checked above
            if hit:
                return self._lifecycle_decision(rank, hostname, event, facts)
        return self._lifecycle_decision(_NO_RANK, hostname, event, facts)

    # -----------------------------------------------------------------------
    # Explain support (the rule lab): every candidate, not only the best.
    # ``decide`` above is untouched, so classification pays nothing for this.
    # -----------------------------------------------------------------------

    @property
    def rules(self) -> list[RuleSpec]:
        """The usable rules in priority order (rank = position)."""
        return list(self._ordered)

    @property
    def default_handling(self) -> str:
        return self._default_handling

    @property
    def default_team(self) -> str:
        return self._default_team

    @property
    def dev_hosts(self) -> frozenset[str]:
        """Every development-host entry: exact names, wildcards and CIDR blocks (to compile a draft set)."""
        return self._dev_patterns.entries if self._dev_patterns is not None else self._dev_hosts

    @property
    def teams(self) -> dict[str, str]:
        return dict(self._teams)

    def host_facts(self, hostname: str) -> tuple[bool, str | None]:
        """(is development host, device-team override or None) for a hostname (any case)."""
        hostname = (hostname or "").lower()
        return self._is_dev(hostname), self._teams.get(hostname)

    def matching_ranks(self, event: Mapping) -> list[int]:
        """Ranks of EVERY rule whose conditions hold for the event, best first.

        The first one is the winner ``decide`` picks; the rest are the runner-ups.
        Uses the same indexes as ``decide`` (one Set scan, the OID arc walk, the
        severity table), so its answer is the indexed engine's, not a re-implementation.
        """
        ordered = self._ordered
        needs_severity = self._needs_severity
        message = event.get("message") or ""
        trap_oid = event.get("trap_oid")
        severity = event.get("syslog_severity")
        ranks: set[int] = set()
        if isinstance(severity, int) and 0 <= severity <= 7:
            ranks.update(self._severity_ranks[severity])
        facts = self._trap_facts(trap_oid)
        if facts is not None and facts.mapping is not None:
            for rank in self._trap_name_ranks.get(facts.mapping.trap_name.lower(), ()):
                if not needs_severity[rank] or _severity_ok(ordered[rank], severity):
                    ranks.add(rank)
        if self._text_set is not None and message:
            for index in self._text_set.Match(message) or ():
                rank = self._text_ranks[index]
                if not needs_severity[rank] or _severity_ok(ordered[rank], severity):
                    ranks.add(rank)
        if self._lookup_ranks:
            for item in (self.lookups.enrich(event) or {}).items():
                for rank in self._lookup_ranks.get(item, ()):
                    if not needs_severity[rank] or _severity_ok(ordered[rank], severity):
                        ranks.add(rank)
        if trap_oid and self._oid_ranks:
            for prefix in oid_arc_prefixes(trap_oid):
                for rank in self._oid_ranks.get(prefix, ()):
                    if not needs_severity[rank] or _severity_ok(ordered[rank], severity):
                        ranks.add(rank)
        return sorted(ranks)

    def matches_any(self, message: str, trap_oid, severity) -> bool:
        """Whether any rule's conditions hold (the backtest's pre-filter; lookup rules left out: no host here)."""
        facts = self._trap_facts(trap_oid)
        trap_name = facts.mapping.trap_name if facts is not None and facts.mapping is not None else None
        return self._best_rank(message or "", trap_oid, severity, trap_name) != _NO_RANK

    def decision_for(self, rank: int | None, hostname: str) -> Decision:
        """The decision when the rule at ``rank`` wins (None: nothing matched)."""
        rule = None if rank is None or rank == _NO_RANK else self._ordered[rank]
        return self._decision(rule, (hostname or "").lower())

    def regex_for(self, rank: int):
        """The compiled RE2 pattern of the regex rule at ``rank`` (for reporting the span)."""
        return self._regex[rank]
