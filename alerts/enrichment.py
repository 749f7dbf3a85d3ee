"""Lookup-table enrichment (pure): an event's key → the tables' fields, one dict lookup per table.

Compiled once per table version with the rule set (``alerts.rule_cache``): the
rows sit in a dict keyed by the event's key field, their values a tuple in
column order, so nothing is queried per event and a hit builds one small dict.
Tables are consulted in name order; the first table naming a field wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

EVENT_KEY_FIELDS = ("hostname", "trap_oid", "source")


@dataclass(frozen=True)
class LookupData:
    """One table: the event field it is keyed by, its value columns, and its rows (key → values)."""

    name: str
    key_column: str
    columns: tuple[str, ...]
    rows: dict[str, tuple] = field(repr=False)


class Lookups:
    """Every table, ready for ``enrich(event)``."""

    def __init__(self, tables: Iterable[LookupData] = ()):
        self.tables = tuple(sorted(tables, key=lambda t: t.name))
        self.fields = frozenset(c for t in self.tables for c in t.columns)

    def __bool__(self) -> bool:
        return bool(self.tables)

    def __len__(self) -> int:
        return sum(len(t.rows) for t in self.tables)

    def enrich(self, event: Mapping) -> dict | None:
        """The enriched fields of one event ({} when no table knows its key; None for no tables)."""
        if not self.tables:
            return None
        out: dict = {}
        for table in self.tables:
            key = event.get(table.key_column)
            if not key:
                continue
            if table.key_column == "hostname":
                key = key.lower()
            values = table.rows.get(key)
            if values is not None:
                for column, value in zip(table.columns, values, strict=False):
                    if value is not None and column not in out:
                        out[column] = value
        return out


def lookup_match(match_string: str) -> tuple[str, str]:
    """``"criticality=high"`` → ``("criticality", "high")`` (the model validated the shape)."""
    name, _, value = match_string.partition("=")
    return name.strip(), value.strip()
