"""The JSON Schema of the configuration file (pure; the choices are passed in by the caller).

Published at ``GET /api/v2/config-file/schema`` and saved as ``docs/config-schema.json``
(a test keeps the two equal), so a customer's CI can check a file without MUTT.
"""

from __future__ import annotations

from alerts.config_file import FORMAT

_TEXT = {"type": "string"}
_OPT_TEXT = {"type": ["string", "null"]}
_BOOL = {"type": "boolean"}
_SEVERITY = {"type": ["integer", "null"], "minimum": 0, "maximum": 7}
_OID = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)*$"}
_NAME = {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$"}


def _object(properties: dict, required: list[str], description: str) -> dict:
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def config_schema(*, handlings: list[str], match_types: list[str], runtime_settings: list[str]) -> dict:
    """The schema, draft 2020-12; ``runtime_settings`` are the names an operator may set."""
    handling = {"type": "string", "enum": handlings}
    team = {"type": "string", "minLength": 1, "maxLength": 64}
    rule = _object(
        {
            "key": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$"},
            "description": _TEXT,
            "match_type": {"type": "string", "enum": match_types},
            "match_string": _OPT_TEXT,
            "trap_oid": {"type": ["string", "null"], "pattern": r"^[0-9]+(\.[0-9]+)*$"},
            "syslog_severity": _SEVERITY,
            "priority": {"type": "integer", "minimum": 1, "maximum": 1000},
            "prod_handling": handling,
            "dev_handling": handling,
            "team": team,
            "clears": {"type": ["string", "null"], "description": "key of the rule whose alerts this one clears"},
            "is_active": _BOOL,
        },
        ["key", "prod_handling", "dev_handling", "team"],
        "A routing rule; natural key: key",
    )
    window = _object(
        {
            "name": {"type": "string", "minLength": 1, "maxLength": 128},
            "kind": {"type": "string", "enum": ["one_off", "weekly"]},
            "timezone": _TEXT,
            "starts_at": {"type": ["string", "null"], "description": "ISO 8601 with offset"},
            "ends_at": {"type": ["string", "null"], "description": "ISO 8601 with offset"},
            "weekdays": {"type": "string", "description": "weekly: 0-6 (0 = Monday), e.g. '5,6'"},
            "start_time": {"type": ["string", "null"], "description": "HH:MM[:SS]"},
            "end_time": {"type": ["string", "null"], "description": "HH:MM[:SS]"},
            "host_pattern": _OPT_TEXT,
            "team": {"type": ["string", "null"]},
            "rule": {"type": ["string", "null"], "description": "key of a rule in the file"},
            "description": _TEXT,
            "is_active": _BOOL,
        },
        ["name"],
        "A maintenance window; natural key: name",
    )
    lookup = _object(
        {
            "name": _NAME,
            "key_column": {"type": "string", "enum": ["hostname", "trap_oid", "source"]},
            "value_columns": {"type": "array", "items": _NAME, "minItems": 1},
            "description": _TEXT,
            "rows": {
                "type": "object",
                "description": "key -> {column: value}",
                "additionalProperties": {"type": "object", "additionalProperties": {"type": ["string", "null"]}},
            },
        },
        ["name", "value_columns"],
        "An enrichment table; natural key: name",
    )

    def listing(item: dict) -> dict:
        return {"type": "array", "items": item}

    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://mutt.invalid/schemas/config-file.json",
        "title": "MUTT operator configuration",
        "type": "object",
        "additionalProperties": False,
        "required": ["format"],
        "properties": {
            "format": {"const": FORMAT},
            "teams": {"type": "array", "items": team, "description": "every team the file may name"},
            "rules": listing(rule),
            "development_hosts": listing(
                _object({"hostname": {"type": "string", "minLength": 1}, "description": _TEXT}, ["hostname"],
                        "A development host (exact, wildcard or CIDR); natural key: hostname")
            ),
            "device_teams": listing(
                _object({"hostname": {"type": "string", "minLength": 1}, "team": team}, ["hostname", "team"],
                        "A team override for one host; natural key: hostname")
            ),
            "oid_mappings": listing(
                _object(
                    {
                        "oid_pattern": {"type": "string", "pattern": r"^([0-9]+|\*)(\.([0-9]+|\*))*$"},
                        "match_kind": {"type": "string", "enum": ["exact", "prefix"]},
                        "trap_name": {"type": "string", "minLength": 1, "maxLength": 128},
                        "vendor": _TEXT,
                        "category": _TEXT,
                        "default_severity": _SEVERITY,
                        "clear_oid_pattern": _OPT_TEXT,
                        "instance_varbind": {"type": ["string", "null"], "pattern": _OID["pattern"]},
                        "description": _TEXT,
                        "is_active": _BOOL,
                    },
                    ["oid_pattern", "trap_name"],
                    "A trap OID mapping; natural key: oid_pattern + match_kind",
                )
            ),
            "maintenance_windows": listing(window),
            "team_contacts": listing(
                _object({"team": team, "emails": {"type": "string", "minLength": 3}, "is_active": _BOOL},
                        ["team", "emails"], "Where a team's Email_only digests go; natural key: team")
            ),
            "runtime_settings": {
                "type": "object",
                "propertyNames": {"enum": runtime_settings},
                "additionalProperties": {"type": ["string", "number", "integer", "boolean", "null"]},
            },
            "lookup_tables": listing(lookup),
        },
    }  # fmt: skip
