"""Reading the live configuration as a configuration-file document (``alerts.config_file``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC

from django.conf import settings
from django.db import connection

from alerts.config_file import SECTION_ORDER, TEAM_FIELDS, dump
from alerts.models import (
    AlertRule,
    DevelopmentHost,
    DeviceTeam,
    LookupTable,
    MaintenanceWindow,
    OidMapping,
    RuntimeSetting,
    TeamContact,
)


def _iso(value) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat()


def _time(value) -> str | None:
    return None if value is None else value.isoformat()


def _rules() -> list[dict]:
    rows = list(AlertRule.objects.order_by().values())
    keys = {r["id"]: r["key"] or f"rule-{r['id']}" for r in rows}
    return [
        {
            "key": keys[r["id"]],
            "description": r["description"],
            "match_type": r["match_type"],
            "match_string": r["match_string"],
            "trap_oid": r["trap_oid"],
            "syslog_severity": r["syslog_severity"],
            "priority": r["priority"],
            "prod_handling": r["prod_handling"],
            "dev_handling": r["dev_handling"],
            "team": r["team_assignment"],
            "clears": keys.get(r["clears_rule_id"]),
            "is_active": r["is_active"],
        }
        for r in rows
    ]


def _windows() -> list[dict]:
    keys = dict(AlertRule.objects.order_by().values_list("id", "key"))
    return [
        {
            "name": w.name,
            "kind": w.kind,
            "timezone": w.timezone,
            "starts_at": _iso(w.starts_at),
            "ends_at": _iso(w.ends_at),
            "weekdays": w.weekdays,
            "start_time": _time(w.start_time),
            "end_time": _time(w.end_time),
            "host_pattern": w.host_pattern,
            "team": w.team,
            "rule": (keys.get(w.rule_id) or f"rule-{w.rule_id}") if w.rule_id else None,
            "description": w.description,
            "is_active": w.is_active,
        }
        for w in MaintenanceWindow.objects.order_by()
    ]


def lookup_tables_read(names: Iterable[str] | None = None) -> list[dict]:
    """Tables with their rows as {key: {column: value}} (one query for all rows)."""
    tables = LookupTable.objects.order_by("name")
    if names is not None:
        tables = tables.filter(name__in=list(names))
    out = []
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute("SELECT key, values FROM lookup_rows WHERE table_id = %s", [table.pk])
            columns = table.value_columns
            rows = {}
            for key, values in cursor.fetchall():
                values = values if isinstance(values, list) else __import__("json").loads(values)
                rows[key] = dict(zip(columns, values, strict=False))
            out.append(
                {
                    "name": table.name,
                    "key_column": table.key_column,
                    "value_columns": list(columns),
                    "description": table.description,
                    "rows": rows,
                }
            )
    return out


def config_document(only: Iterable[str] | None = None) -> dict:
    """The live configuration as a document (every section, or those in ``only``)."""
    names = set(only) if only else set(SECTION_ORDER)
    readers = {
        "rules": _rules,
        "development_hosts": lambda: [
            {"hostname": h, "description": d} for h, d in DevelopmentHost.objects.values_list("hostname", "description")
        ],
        "device_teams": lambda: [
            {"hostname": h, "team": t} for h, t in DeviceTeam.objects.values_list("hostname", "team_assignment")
        ],
        "oid_mappings": lambda: list(
            OidMapping.objects.order_by().values(
                "oid_pattern", "match_kind", "trap_name", "vendor", "category", "default_severity",
                "clear_oid_pattern", "instance_varbind", "description", "is_active",
            )
        ),
        "maintenance_windows": _windows,
        "team_contacts": lambda: list(TeamContact.objects.order_by().values("team", "emails", "is_active")),
        "runtime_settings": lambda: dict(
            RuntimeSetting.objects.filter(value__isnull=False).values_list("name", "value")
        ),
        "lookup_tables": lookup_tables_read,
    }  # fmt: skip
    doc: dict = {"format": 1}
    for name in SECTION_ORDER:
        if name in names:
            doc[name] = readers[name]()
    teams = {settings.DEFAULT_TEAM}
    for name, field in TEAM_FIELDS.items():
        teams.update(o[field] for o in doc.get(name, []) if o.get(field))
    doc["teams"] = sorted(teams)
    return doc


def config_export(only: Iterable[str] | None = None) -> str:
    """The live configuration as the canonical file text."""
    return dump(config_document(only), only)
