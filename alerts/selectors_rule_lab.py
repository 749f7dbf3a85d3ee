"""Reads for the rule lab: the rule health table, sortable by each column."""

from __future__ import annotations

from alerts.models import AlertRule
from alerts.models.rule_lab import RuleHealth

HEALTH_COLUMNS = (
    "rule_id",
    "priority",
    "hits_24h",
    "hits_7d",
    "hits_30d",
    "last_matched",
    "candidates",
    "never_matched",
    "shadowed_by",
)
HEALTH_ORDERINGS = frozenset(HEALTH_COLUMNS) | {f"-{c}" for c in HEALTH_COLUMNS}


def rule_health_list(ordering: str = "rule_id") -> list[dict]:
    """One dict per rule with its health; ``ordering`` is a column, ``-column`` for descending."""
    rules = {r.pk: r for r in AlertRule.objects.filter(pk__in=RuleHealth.objects.values("rule_id"))}
    rows = []
    for h in RuleHealth.objects.all():
        rule = rules.get(h.rule_id)
        rows.append(
            {
                "rule_id": h.rule_id,
                "rule": str(rule) if rule else None,
                "priority": rule.priority if rule else None,
                "hits_24h": h.hits_24h,
                "hits_7d": h.hits_7d,
                "hits_30d": h.hits_30d,
                "last_matched": h.last_matched.isoformat() if h.last_matched else None,
                "candidates": h.candidates,
                "never_matched": h.never_matched,
                "shadowed": h.shadowed_by is not None,
                "shadowed_by": h.shadowed_by,
                "duplicate": bool(h.duplicate_of),
                "duplicate_of": h.duplicate_of,
                "window_days": h.window_days,
                "replay_since": h.replay_since.isoformat() if h.replay_since else None,
                "replayed_events": h.replayed_events,
                "computed_at": h.computed_at.isoformat(),
            }
        )
    descending = ordering.startswith("-")
    column = ordering.lstrip("-")
    # Sorted in Python: one row per rule (hundreds at most), and "priority" lives on the rule.
    present = [r for r in rows if r[column] is not None]
    missing = [r for r in rows if r[column] is None]
    present.sort(key=lambda r: (r[column], r["rule_id"]), reverse=descending)
    return present + missing
