"""Plan a configuration file: the field-by-field diff against the live configuration, and its backtest.

The backtest is the rule lab's (``alerts.services.rule_backtest.backtest_scan``):
the live rule set against the one the file would give, over the stored events
of the last days, so ``plan`` reports exactly what a rule-lab backtest of the
same change reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from alerts.config_file import diff, diff_text, sections_of
from alerts.enrichment import LookupData, Lookups
from alerts.models import AlertRule
from alerts.rule_engine import RuleSet, RuleSpec
from alerts.services.config_apply import _managed, config_validate, config_version_latest
from alerts.services.config_export import config_document


def _spec(obj: dict, rule_id: int, key_ids: dict[str, int]) -> RuleSpec:
    return RuleSpec(
        id=rule_id,
        match_type=obj["match_type"],
        priority=obj["priority"],
        prod_handling=obj["prod_handling"],
        dev_handling=obj["dev_handling"],
        team_assignment=obj["team"],
        match_string=obj["match_string"],
        trap_oid=obj["trap_oid"],
        syslog_severity=obj["syslog_severity"],
        clears_rule_id=key_ids.get(obj["clears"]) if obj["clears"] else None,
    )


def _after_ruleset(wanted: dict, live: dict, changes: dict, prune: bool):
    """The rule set the file would give (live rules the file lacks stay unless pruned), and the draft facts."""
    from alerts.services.rule_lab import DraftRuleSet

    managed = _managed(wanted)
    live_rules = AlertRule.objects.order_by().values_list("id", "key")
    key_ids = {key or f"rule-{pk}": pk for pk, key in live_rules}
    next_id = (AlertRule.objects.aggregate(top=Max("id"))["top"] or 0) + 1
    file_rules = sections_of(wanted, ["rules"])["rules"] if "rules" in managed else []
    for obj in file_rules:
        if obj["key"] not in key_ids:
            key_ids[obj["key"]] = next_id
            next_id += 1
    rules: dict[str, dict] = (
        {} if (prune and "rules" in managed) else {o["key"]: o for o in sections_of(live, ["rules"])["rules"]}
    )
    rules.update({o["key"]: o for o in file_rules})
    part = changes.get("rules") or {"added": [], "changed": {}, "removed": []}
    touched = set(part["added"]) | set(part["changed"])
    removed_keys = set(part["removed"]) if prune else set()
    specs, draft_specs, draft_ids, removed_ids = [], [], set(), set()
    for key, obj in rules.items():
        if key in removed_keys:
            continue
        spec = _spec(obj, key_ids[key], key_ids)
        if obj["is_active"]:
            specs.append(spec)
            if key in touched:
                draft_specs.append(spec)
                draft_ids.add(spec.id)
        elif key in touched:
            removed_ids.add(spec.id)
    removed_ids |= {key_ids[k] for k in removed_keys}

    def hosts(section: str) -> list[dict]:
        objs = {
            o["hostname"]: o for o in ([] if prune and section in managed else sections_of(live, [section])[section])
        }
        if section in managed:
            objs.update({o["hostname"]: o for o in sections_of(wanted, [section])[section]})
        return list(objs.values())

    after = RuleSet.compile(
        specs,
        [o["hostname"] for o in hosts("development_hosts")],
        {o["hostname"]: o["team"] for o in hosts("device_teams")},
        lookups=_after_lookups(wanted, prune),
        default_handling=settings.DEFAULT_HANDLING,
        default_team=settings.DEFAULT_TEAM,
    )
    return DraftRuleSet(after, frozenset(draft_ids), tuple(draft_specs), frozenset(removed_ids), None)


def _after_lookups(wanted: dict, prune: bool) -> Lookups:
    """The lookup tables the file would give (the live ones when the file has no such section)."""
    from alerts.rule_cache import lookups_current

    live = lookups_current()
    if "lookup_tables" not in wanted:
        return live
    tables = {} if prune else {t.name: t for t in live.tables}
    for obj in sections_of(wanted, ["lookup_tables"])["lookup_tables"]:
        columns = tuple(obj["value_columns"])
        rows = {k: tuple((v or {}).get(c) for c in columns) for k, v in (obj["rows"] or {}).items()}
        tables[obj["name"]] = LookupData(obj["name"], obj["key_column"], columns, rows)
    return Lookups(tables.values())


@dataclass(frozen=True)
class Plan:
    base_version: int
    changes: dict
    backtest: dict | None

    def as_dict(self) -> dict:
        return {"base_version": self.base_version, "changes": self.changes, "diff": diff_text(self.changes),
                "backtest": self.backtest}  # fmt: skip


def config_plan(text: str, *, days: float | None = 7, prune: bool = False) -> Plan:
    """The field-by-field diff against the live configuration, and (``days``) the backtest of the change."""
    from alerts.services.rule_backtest import _fresh_ruleset, backtest_scan

    parsed = config_validate(text)
    live = config_document()
    managed = _managed(parsed.data)
    changes = diff(live, parsed.data, prune=prune, only=managed)
    result = None
    if days:
        draft = _after_ruleset(parsed.data, live, changes, prune)
        current = _fresh_ruleset()
        end = timezone.now()
        result = backtest_scan(current, draft, end - timedelta(days=days), end)
    return Plan(config_version_latest(), changes, result)
