"""Pure conversions from MUTT v2.3's data to this MUTT's (no I/O; used by ``import_v23``).

v2.3 picked the active rule with the LOWEST priority number (1 = highest),
ties by lowest id. Here the HIGHEST priority (1-1000) wins, ties by lowest id.
``priorities_convert`` maps one order onto the other so the same rule still
wins: ``1001 - p`` when every v2.3 priority is within 1-1000 (easy to read
back), otherwise by rank, equal priorities staying equal.
"""

from __future__ import annotations

from alerts.choices import HANDLING_ALIASES

SEVERITY_NAMES = {
    "emergency": 0, "emerg": 0, "panic": 0,
    "alert": 1,
    "critical": 2, "crit": 2,
    "error": 3, "err": 3,
    "warning": 4, "warn": 4,
    "notice": 5,
    "informational": 6, "info": 6,
    "debug": 7,
}  # fmt: skip


def priorities_convert(priorities: dict[int, int]) -> dict[int, int]:
    """v2.3 ``{rule id: priority}`` (lower wins) -> ours (higher wins), order and ties kept."""
    if all(1 <= p <= 1000 for p in priorities.values()):
        return {rule_id: 1001 - p for rule_id, p in priorities.items()}
    distinct = sorted(set(priorities.values()))
    if len(distinct) > 1000:
        raise ValueError("more than 1000 distinct v2.3 priorities cannot be kept in order within 1-1000")
    rank = {p: 1000 - i for i, p in enumerate(distinct)}
    return {rule_id: rank[p] for rule_id, p in priorities.items()}


def severity_convert(value: str | int | None) -> int | None:
    """v2.3's text severity ('Critical', '2', None) -> syslog 0-7 or None."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if text == "":
        return None
    if text.isdigit() and 0 <= int(text) <= 7:
        return int(text)
    if text in SEVERITY_NAMES:
        return SEVERITY_NAMES[text]
    raise ValueError(f"unknown v2.3 syslog severity {value!r}")


def handling_convert(value: str) -> str:
    """v2.3 'Ignore' is our 'Suppress'; the other handlings have the same names."""
    return HANDLING_ALIASES.get(value, value)


def v23_winner(rules: list[dict], event: dict) -> int | None:
    """The id of the rule v2.3 would pick for ``event``: active rules, lowest priority number, then lowest id.

    A reference for tests and for ``import_v23 --check``: contains / regex on
    the message, oid_prefix on the trap OID, a severity (when set) equal to the event's.
    """
    import re

    for rule in sorted((r for r in rules if r.get("is_active", True)), key=lambda r: (r["priority"], r["id"])):
        severity = severity_convert(rule.get("syslog_severity"))
        if severity is not None and event.get("syslog_severity") != severity:
            continue
        message = event.get("message") or ""
        if rule["match_type"] == "contains" and rule.get("match_string") and rule["match_string"] in message:
            return rule["id"]
        if rule["match_type"] == "regex" and rule.get("match_string") and re.search(rule["match_string"], message):
            return rule["id"]
        oid = (event.get("trap_oid") or "").lstrip(".")
        if rule["match_type"] == "oid_prefix" and rule.get("trap_oid") and oid.startswith(rule["trap_oid"]):
            return rule["id"]
    return None
