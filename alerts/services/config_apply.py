"""Configuration as code: validate, plan and apply a configuration file (docs/config-as-code.md).

``config_validate`` refuses a file whole with every error at its line and
column: YAML syntax, the JSON Schema, natural keys and references, then each
object's own model validation (the admin's and the API's messages).
``config_plan`` diffs it against the live configuration and backtests the
change with the rule lab's engine. ``config_apply`` writes it in one
transaction under an advisory lock (a concurrent apply gets ``ConfigConflict``,
HTTP 409), audits every object, bumps the rule version once and records a
numbered ``ConfigVersion``.
"""

from __future__ import annotations

from functools import cache

import jsonschema
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max
from django.utils.dateparse import parse_datetime, parse_time

from alerts.choices import AuditOperation, HandlingChoices, MatchTypeChoices
from alerts.config_file import (
    SECTION_ORDER,
    SECTIONS,
    ConfigError,
    ConfigFileInvalid,
    Parsed,
    apply_plan,
    check_keys_and_references,
    content_hash,
    diff,
    parse,
    schema_errors,
    sections_of,
)
from alerts.config_schema import config_schema
from alerts.models import (
    AlertRule,
    ConfigVersion,
    DevelopmentHost,
    DeviceTeam,
    LookupRow,
    LookupTable,
    MaintenanceWindow,
    OidMapping,
    TeamContact,
)
from alerts.rule_cache import rules_version_bump_once
from alerts.runtime_catalog import CATALOG, RuntimeSettingError, setting_parse
from alerts.services.config import ConfigChange, config_audit_write_many, config_versions_paused, snapshot
from alerts.services.config_export import config_document, config_export

# pg_advisory_xact_lock key of configuration applies ("MUTTCFG1"): held by ``config_apply`` only.
APPLY_LOCK_KEY = 0x4D55545443464731


class ConfigConflict(Exception):
    """Another apply holds the lock, or the configuration moved past the version the caller planned on."""


@cache
def schema() -> dict:
    return config_schema(
        handlings=list(HandlingChoices.values),
        match_types=list(MatchTypeChoices.values),
        runtime_settings=sorted(CATALOG),
    )


@cache
def _validator():
    return jsonschema.Draft202012Validator(schema())


@cache
def _quick_check():
    """A compiled (Rust) validator's yes/no, when ``jsonschema-rs`` is installed: 10,000 rules in milliseconds."""
    try:
        import jsonschema_rs
    except ImportError:
        return None
    return jsonschema_rs.validator_for(schema()).is_valid


# ---------------------------------------------------------------------------
# From file objects to model instances (and back to file field names for errors)
# ---------------------------------------------------------------------------

_MODELS = {
    "rules": AlertRule,
    "development_hosts": DevelopmentHost,
    "device_teams": DeviceTeam,
    "oid_mappings": OidMapping,
    "maintenance_windows": MaintenanceWindow,
    "team_contacts": TeamContact,
    "lookup_tables": LookupTable,
}
_FILE_FIELD = {"team_assignment": "team", "clears_rule": "clears", "rule": "rule"}


def _model_fields(name: str, obj: dict) -> dict:
    """The model's field values for one normalised file object (references resolved later)."""
    if name == "rules":
        fields = {k: v for k, v in obj.items() if k not in ("team", "clears")}
        return {**fields, "team_assignment": obj["team"]}
    if name == "device_teams":
        return {"hostname": obj["hostname"], "team_assignment": obj["team"]}
    if name == "maintenance_windows":
        fields = {k: v for k, v in obj.items() if k != "rule"}
        for f in ("starts_at", "ends_at"):
            fields[f] = parse_datetime(obj[f]) if isinstance(obj[f], str) else obj[f]
        for f in ("start_time", "end_time"):
            fields[f] = parse_time(obj[f]) if isinstance(obj[f], str) else obj[f]
        return fields
    if name == "lookup_tables":
        return {k: v for k, v in obj.items() if k != "rows"}
    return dict(obj)


def _instance_errors(parsed: Parsed, name: str, index: int, instance) -> list[ConfigError]:
    try:
        instance.full_clean(exclude=["created_by", "clears_rule", "rule"], validate_unique=False,
                            validate_constraints=False)  # fmt: skip
    except ValidationError as exc:
        return [
            parsed.error((name, index, _FILE_FIELD.get(field, field)) if field != "__all__" else (name, index), msg)
            for field, messages in exc.message_dict.items()
            for msg in messages
        ]
    except (TypeError, ValueError) as exc:
        return [parsed.error((name, index), str(exc))]
    return []


def _model_errors(parsed: Parsed) -> list[ConfigError]:
    doc = parsed.data
    errors: list[ConfigError] = []
    for name in SECTION_ORDER:
        raw = doc.get(name)
        if name == "runtime_settings":
            for setting, value in (raw or {}).items():
                try:
                    setting_parse(setting, value)
                except RuntimeSettingError as exc:
                    errors.append(parsed.error((name, setting), str(exc)))
            continue
        from alerts.config_file import normalised

        for index, obj in enumerate(raw or []):
            fields = _model_fields(name, normalised(name, obj))
            if name == "maintenance_windows":
                for f in ("starts_at", "ends_at", "start_time", "end_time"):
                    if obj.get(f) is not None and fields[f] is None:
                        errors.append(parsed.error((name, index, f), "not a date/time this field accepts (ISO 8601)"))
                if obj.get("rule"):
                    fields["rule_id"] = 0  # a rule is named (checked against the file's keys already)
            if name == "lookup_tables":
                errors.extend(_lookup_rows_errors(parsed, index, obj))
            instance = _MODELS[name](**fields)
            errors.extend(_instance_errors(parsed, name, index, instance))
            if name in ("development_hosts", "device_teams") and instance.hostname != obj.get("hostname"):
                errors.append(parsed.error((name, index, "hostname"), "write host names in lower case, without spaces"))
    return errors


def _lookup_rows_errors(parsed: Parsed, index: int, obj: dict) -> list[ConfigError]:
    columns = set(obj.get("value_columns") or [])
    errors = []
    for key, values in (obj.get("rows") or {}).items():
        unknown = sorted(set(values or {}) - columns)
        if unknown:
            errors.append(
                parsed.error(("lookup_tables", index, "rows", key), f"unknown column(s): {', '.join(unknown)}")
            )
    return errors


def config_validate(text: str) -> Parsed:
    """The parsed file, or ``ConfigFileInvalid`` with every error (line and column each)."""
    parsed = parse(text)
    if not isinstance(parsed.data, dict):
        raise ConfigFileInvalid([parsed.error((), "the file must be a mapping (format, teams, rules, …)")])
    errors = schema_errors(parsed, _validator(), _quick_check())
    if errors:  # the later checks assume the schema's shapes
        raise ConfigFileInvalid(errors)
    errors = check_keys_and_references(parsed) + _model_errors(parsed)
    if errors:
        raise ConfigFileInvalid(sorted(errors, key=lambda e: (e.line or 0, e.column or 0)))
    return parsed


def _managed(doc: dict) -> list[str]:
    """The sections the file holds: an apply touches only those (a partial export stays partial)."""
    return [name for name in SECTION_ORDER if name in doc]


# ---------------------------------------------------------------------------
# Apply
# ---------------------------------------------------------------------------


def _live_instances(name: str) -> dict:
    model = _MODELS[name]
    key = SECTIONS[name].key
    out = {}
    for inst in model.objects.order_by():
        if name == "rules":
            out[inst.natural_key] = inst
        elif name == "device_teams":
            out[inst.hostname] = inst
        else:
            out[" ".join(str(getattr(inst, k)) for k in key)] = inst
    return out


def _write_section(name: str, wanted: dict, changes: dict, key_ids: dict, audit: list) -> None:
    """Create, update and (pruned) delete one section's objects in bulk, one audit row per object."""
    model = _MODELS[name]
    table = model._meta.db_table
    added, changed, removed = apply_plan(changes)(name)
    by_key = {SECTIONS[name].natural_key(o): o for o in sections_of(wanted, [name])[name]}
    live = _live_instances(name)

    def fields_for(key: str) -> dict:
        fields = _model_fields(name, by_key[key])
        if name == "rules":
            clears = by_key[key]["clears"]
            fields["clears_rule_id"] = key_ids.get(clears) if clears else None
        if name == "maintenance_windows":
            rule = by_key[key]["rule"]
            fields["rule_id"] = key_ids.get(rule) if rule else None
        return fields

    new = []
    for key in added:
        fields = fields_for(key)
        if name == "rules":
            fields["clears_rule_id"] = None  # set below, once every new rule has its id
        if name in ("rules", "maintenance_windows"):
            fields["created_by"] = audit[0]
        new.append(model(**fields))
    model.objects.bulk_create(new, batch_size=2000)
    if name == "rules":
        key_ids.update({inst.key: inst.pk for inst in new})
    updates, update_fields = [], set()
    olds = {}
    created = {inst.key: inst for inst in new} if name == "rules" else {}
    for key in list(changed) + [k for k in created if by_key[k]["clears"]]:
        inst = live.get(key) or created[key]
        if key in live:
            olds[inst.pk] = snapshot(inst)
        for field, value in fields_for(key).items():
            if getattr(inst, field) != value:
                setattr(inst, field, value)
                update_fields.add(field)
        updates.append(inst)
    if updates and update_fields:
        model.objects.bulk_update(updates, sorted(update_fields), batch_size=2000)
    audit_rows = audit[1]
    audit_rows.extend((AuditOperation.CREATE, table, inst.pk, None, snapshot(inst)) for inst in new)
    audit_rows.extend(
        (AuditOperation.UPDATE, table, inst.pk, olds[inst.pk], snapshot(inst)) for inst in updates if inst.pk in olds
    )
    doomed = [live[k] for k in removed]
    if doomed:
        audit_rows.extend((AuditOperation.DELETE, table, inst.pk, snapshot(inst), None) for inst in doomed)
        model.objects.filter(pk__in=[i.pk for i in doomed]).delete()


def _lock_or_conflict(base_version: int | None) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [APPLY_LOCK_KEY])
        if not cursor.fetchone()[0]:
            raise ConfigConflict("another configuration apply is running; plan again once it is done")
    if base_version is not None and config_version_latest() != base_version:
        raise ConfigConflict(
            f"the configuration moved to version {config_version_latest()} since version {base_version}; plan again"
        )


def config_apply(
    text: str, *, change: ConfigChange, prune: bool = False, base_version: int | None = None, source: str = "apply"
) -> dict:
    """Apply a file in one transaction; returns {"version", "changes"}. Raises ConfigFileInvalid or ConfigConflict."""
    from alerts.services.lookup_tables import lookup_tables_write
    from alerts.services.runtime import runtime_settings_set

    parsed = config_validate(text)
    wanted = parsed.data
    managed = _managed(wanted)
    with transaction.atomic(), rules_version_bump_once(), config_versions_paused():
        _lock_or_conflict(base_version)
        live = config_document(managed)
        changes = diff(live, wanted, prune=prune, only=managed)
        key_ids = {r.natural_key: r.pk for r in AlertRule.objects.order_by().only("id", "key")}
        audit: list = [change.user, []]
        for name in ("rules", "development_hosts", "device_teams", "oid_mappings", "maintenance_windows",
                     "team_contacts"):  # fmt: skip
            if name in changes:
                _write_section(name, wanted, changes, key_ids, audit)
        config_audit_write_many(change=change, rows=audit[1])
        if "runtime_settings" in changes:
            values = dict(wanted.get("runtime_settings") or {})
            if prune:
                values.update({k: None for k in changes["runtime_settings"]["removed"]})
            runtime_settings_set(values, change)
        if "lookup_tables" in changes:
            lookup_tables_write(sections_of(wanted, ["lookup_tables"])["lookup_tables"], changes["lookup_tables"],
                                change)  # fmt: skip
        version = config_version_record(change, source=source)
    return {"version": version.number if version else config_version_latest(), "changes": changes}


# ---------------------------------------------------------------------------
# Versions
# ---------------------------------------------------------------------------


def config_version_latest() -> int:
    return ConfigVersion.objects.aggregate(top=Max("number"))["top"] or 0


# Lookup tables above this many rows in all are left out of versions (their own loads are audited with
# row counts): a million-row table would make every version tens of megabytes. A version without the
# section leaves the tables alone when it is applied or rolled back to.
VERSION_LOOKUP_ROWS_MAX = 10_000


def config_version_record(change: ConfigChange, *, source: str) -> ConfigVersion | None:
    """A new numbered version holding the live configuration, unless it equals the latest one."""
    large = LookupRow.objects.values("id")[VERSION_LOOKUP_ROWS_MAX : VERSION_LOOKUP_ROWS_MAX + 1].exists()
    text = config_export([n for n in SECTION_ORDER if n != "lookup_tables"] if large else None)
    digest = content_hash(text)
    latest = ConfigVersion.objects.order_by("-number").only("content_hash").first()
    if latest is not None and latest.content_hash == digest:
        return None  # nothing changed (e.g. the same file applied twice)
    return ConfigVersion.objects.create(
        created_by=change.user,
        reason=change.reason,
        source=source,
        content_hash=digest,
        content=text,
        correlation_id=change.correlation_id,
    )


def config_versions_diff(a: ConfigVersion, b: ConfigVersion) -> dict:
    """Field-by-field changes from version ``a`` to version ``b``."""
    old, new = parse(a.content).data, parse(b.content).data
    return diff(old, new, prune=True, only=[n for n in SECTION_ORDER if n in old and n in new])


def config_rollback(version: ConfigVersion, *, change: ConfigChange) -> dict:
    """Apply an earlier version whole (pruning what it lacked): itself a new, audited version."""
    reason = f"rollback to version {version.number}" + (f": {change.reason}" if change.reason else "")
    change = ConfigChange(user=change.user, reason=reason, correlation_id=change.correlation_id)
    return config_apply(version.content, change=change, prune=True, source="rollback")


def errors_json(exc: ConfigFileInvalid) -> list[dict]:
    return [e.as_dict() for e in exc.errors]


def errors_text(exc: ConfigFileInvalid, filename: str = "-") -> str:
    return "\n".join(f"{filename}:{e}" for e in exc.errors)
