"""Host entries that are exact names, wildcards or CIDR blocks (pure: no Django or I/O).

Used for development hosts: exact names stay a frozenset (O(1) per event);
wildcards (``lab-*``, ``*.dev.example.net``, ``?`` for one character) become
one RE2 pattern, CIDR blocks (``10.20.0.0/16``) match hostnames that are IP
addresses. Only a hostname not found exactly is tried against the patterns,
and the answer is memoised per hostname (hosts are a bounded vocabulary).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

import re2

_MEMO_MAX = 50_000


def entry_kind(entry: str) -> str:
    """``exact``, ``wildcard`` or ``cidr`` for one (lower-cased) entry."""
    if "/" in entry:
        return "cidr"
    if "*" in entry or "?" in entry:
        return "wildcard"
    return "exact"


def entry_error(entry: str) -> str | None:
    """Why an entry is refused (None: fine); the admin and the API show this."""
    entry = entry.strip().lower()
    if not entry:
        return "A host entry cannot be empty."
    if entry_kind(entry) == "cidr":
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError as exc:
            return f"Not a CIDR block: {exc}"
    return None


def _wildcard_regex(entry: str) -> str:
    return "".join(".*" if c == "*" else "." if c == "?" else re2.escape(c) for c in entry)


class HostPatterns:
    """Compiled host entries: ``exact`` (a frozenset) plus the wildcard and CIDR entries."""

    def __init__(self, entries: Iterable[str]):
        exact: set[str] = set()
        wildcards: list[str] = []
        self._networks: list = []
        self.entries = frozenset(raw.strip().lower() for raw in entries)  # as given (a draft set recompiles them)
        for entry in self.entries:
            kind = entry_kind(entry)
            if kind == "exact":
                exact.add(entry)
            elif kind == "wildcard":
                wildcards.append(_wildcard_regex(entry))
            else:
                try:
                    self._networks.append(ipaddress.ip_network(entry, strict=False))
                except ValueError:
                    continue  # refused by validation; a row saved before it cannot match
        self.exact = frozenset(exact)
        self._wildcard = re2.compile("^(?:" + "|".join(wildcards) + ")$") if wildcards else None
        self.has_patterns = bool(wildcards or self._networks)
        self._memo: dict[str, bool] = {}

    def matches(self, hostname: str) -> bool:
        """Whether a lower-cased hostname matches an entry (exact names first)."""
        if hostname in self.exact:
            return True
        hit = self._memo.get(hostname)
        if hit is None:
            hit = self._pattern_hit(hostname)
            if len(self._memo) >= _MEMO_MAX:
                self._memo.clear()
            self._memo[hostname] = hit
        return hit

    def _pattern_hit(self, hostname: str) -> bool:
        if self._wildcard is not None and self._wildcard.match(hostname):
            return True
        if self._networks:
            try:
                address = ipaddress.ip_address(hostname)
            except ValueError:
                return False
            return any(address in network for network in self._networks)
        return False
