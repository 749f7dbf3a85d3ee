"""Trap names and clear pairs (pure: no Django, Redis or I/O).

An ``oid_mappings`` row names a trap OID pattern: ``exact`` (the OID itself)
or ``prefix`` (the OID or anything below it at an arc boundary); in both, an
arc written ``*`` matches any one arc. A mapping may name the OID pattern
that *clears* it (linkUp clears linkDown) and the varbind OID whose value
tells instances apart (ifIndex), so a linkUp closes the linkDown of the same
interface only (docs/architecture.md, "Alert lifecycle").

``TrapIndex.compile(mappings)`` once per configuration version (with the
rules, in ``alerts.rule_cache``); ``index.resolve(oid)`` per trap event: a
dict lookup for exact patterns, and a memo in front of the wildcard/prefix
patterns (trap OIDs are a small vocabulary), so the per-event cost is O(1).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

EXACT = "exact"
PREFIX = "prefix"
_MEMO_MAX = 10_000


@dataclass(frozen=True, slots=True)
class TrapMapping:
    """What the engine needs of an ``oid_mappings`` row."""

    id: int
    oid_pattern: str
    trap_name: str
    match_kind: str = EXACT
    category: str = ""
    default_severity: int | None = None
    clear_oid_pattern: str | None = None
    instance_varbind: str | None = None


@dataclass(frozen=True, slots=True)
class TrapFacts:
    """One trap OID resolved: its own mapping (or None), and the mapping it clears (or None)."""

    mapping: TrapMapping | None
    clears: TrapMapping | None


_NOTHING = TrapFacts(None, None)


def oid_pattern_matches(pattern: str, kind: str, oid: str) -> bool:
    """Whether ``oid`` matches the pattern (``*`` = any one arc; prefix = at an arc boundary)."""
    want = pattern.split(".")
    arcs = oid.split(".")
    if len(arcs) < len(want) or (kind != PREFIX and len(arcs) != len(want)):
        return False
    return all(w == "*" or w == a for w, a in zip(want, arcs, strict=False))


def _specificity(pattern: str, kind: str) -> tuple[int, int, int]:
    arcs = pattern.split(".")
    # Exact before prefix, more arcs first, fewer wildcards first.
    return (0 if kind == EXACT else 1, -len(arcs), arcs.count("*"))


class _PatternTable:
    """Patterns → value: exact OIDs in a dict, the rest tried most specific first, memoised per OID."""

    def __init__(self, entries: Iterable[tuple[str, str, TrapMapping]]):
        self._exact: dict[str, TrapMapping] = {}
        others: list[tuple[str, str, TrapMapping]] = []
        for pattern, kind, value in entries:
            if kind == EXACT and "*" not in pattern:
                self._exact.setdefault(pattern, value)
            else:
                others.append((pattern, kind, value))
        others.sort(key=lambda e: (*_specificity(e[0], e[1]), e[2].id))
        self._others = others
        self._memo: dict[str, TrapMapping | None] = {}

    def get(self, oid: str) -> TrapMapping | None:
        hit = self._exact.get(oid)
        if hit is not None or not self._others:
            return hit
        try:
            return self._memo[oid]
        except KeyError:
            pass
        found = next((v for p, k, v in self._others if oid_pattern_matches(p, k, oid)), None)
        if len(self._memo) >= _MEMO_MAX:
            self._memo.clear()
        self._memo[oid] = found
        return found


class TrapIndex:
    """The compiled ``oid_mappings``: trap OID → its name, and which condition it clears."""

    def __init__(self, mappings: Iterable[TrapMapping]):
        mappings = list(mappings)
        self.mappings = mappings
        self._own = _PatternTable((m.oid_pattern, m.match_kind, m) for m in mappings)
        self._clears = _PatternTable((m.clear_oid_pattern, EXACT, m) for m in mappings if m.clear_oid_pattern)
        self._memo: dict[str, TrapFacts] = {}

    def __len__(self) -> int:
        return len(self.mappings)

    def resolve(self, oid: str) -> TrapFacts:
        facts = self._memo.get(oid)
        if facts is None:
            own = self._own.get(oid)
            clears = self._clears.get(oid)
            facts = _NOTHING if own is None and clears is None else TrapFacts(own, clears)
            if len(self._memo) >= _MEMO_MAX:
                self._memo.clear()
            self._memo[oid] = facts
        return facts


def instance_from_varbinds(varbinds: object, varbind_oid: str | None) -> str | None:
    """The value of the first varbind at or below ``varbind_oid`` (e.g. ifIndex.3 → "3"), or None."""
    if not varbind_oid or not isinstance(varbinds, list):
        return None
    for varbind in varbinds:
        if not isinstance(varbind, Mapping):
            continue
        oid = str(varbind.get("oid") or "").lstrip(".")
        if oid == varbind_oid or oid.startswith(varbind_oid + "."):
            value = varbind.get("value")
            return None if value is None else str(value)
    return None
