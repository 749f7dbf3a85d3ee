"""The configuration file (pure: no Django, no I/O): parse with positions, check, write, diff.

One YAML document holds the whole operator configuration (docs/config-as-code.md).
Objects are addressed by their natural key and written sorted by it, with
their fields in a fixed order and defaults left out, so the same configuration
always gives the same bytes and a change gives a small git diff.

``parse`` keeps the line and column of every value, so each error, from YAML
syntax to the model's own validation (done by the caller), points into the file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from alerts.config_emit import emit_mapping

FORMAT = 1
HEADER = "# MUTT configuration: manage.py config export (docs/config-as-code.md)\n"


@dataclass(frozen=True)
class Section:
    """One kind of object: its fields in file order, its natural key, the defaults left out on export."""

    name: str
    fields: tuple[str, ...]
    key: tuple[str, ...]
    defaults: dict[str, Any]
    required: tuple[str, ...]

    def natural_key(self, obj: dict) -> str:
        return " ".join(str(obj.get(k)) for k in self.key)


SECTIONS: dict[str, Section] = {
    s.name: s
    for s in (
        Section(
            "rules",
            (
                "key", "description", "match_type", "match_string", "trap_oid", "syslog_severity", "priority",
                "prod_handling", "dev_handling", "team", "clears", "is_active",
            ),
            ("key",),
            {"description": "", "match_type": "contains", "match_string": None, "trap_oid": None,
             "syslog_severity": None, "priority": 100, "clears": None, "is_active": True},
            ("key", "prod_handling", "dev_handling", "team"),
        ),
        Section("development_hosts", ("hostname", "description"), ("hostname",), {"description": ""}, ("hostname",)),
        Section("device_teams", ("hostname", "team"), ("hostname",), {}, ("hostname", "team")),
        Section(
            "oid_mappings",
            (
                "oid_pattern", "match_kind", "trap_name", "vendor", "category", "default_severity",
                "clear_oid_pattern", "instance_varbind", "description", "is_active",
            ),
            ("oid_pattern", "match_kind"),
            {"match_kind": "exact", "vendor": "standard", "category": "", "default_severity": None,
             "clear_oid_pattern": None, "instance_varbind": None, "description": "", "is_active": True},
            ("oid_pattern", "trap_name"),
        ),
        Section(
            "maintenance_windows",
            (
                "name", "kind", "timezone", "starts_at", "ends_at", "weekdays", "start_time", "end_time",
                "host_pattern", "team", "rule", "description", "is_active",
            ),
            ("name",),
            {"kind": "one_off", "timezone": "UTC", "starts_at": None, "ends_at": None, "weekdays": "",
             "start_time": None, "end_time": None, "host_pattern": None, "team": None, "rule": None,
             "description": "", "is_active": True},
            ("name",),
        ),
        Section("team_contacts", ("team", "emails", "is_active"), ("team",), {"is_active": True}, ("team", "emails")),
        Section("runtime_settings", ("name", "value"), ("name",), {}, ("name", "value")),
        Section(
            "lookup_tables",
            ("name", "key_column", "value_columns", "description", "rows"),
            ("name",),
            {"key_column": "hostname", "description": "", "rows": {}},
            ("name", "value_columns"),
        ),
    )
}  # fmt: skip
SECTION_ORDER = tuple(SECTIONS)
# Sections whose objects name a team (the file's ``teams`` list must hold it).
TEAM_FIELDS = {"rules": "team", "device_teams": "team", "maintenance_windows": "team", "team_contacts": "team"}


@dataclass(frozen=True)
class ConfigError:
    """One problem in a file: where (path in the document, 1-based line and column) and what."""

    path: tuple
    line: int | None
    column: int | None
    message: str

    def as_dict(self) -> dict:
        return {"path": "/".join(str(p) for p in self.path), "line": self.line, "column": self.column,
                "message": self.message}  # fmt: skip

    def __str__(self) -> str:
        where = f"{self.line}:{self.column}" if self.line is not None else "-"
        path = "/".join(str(p) for p in self.path) or "(document)"
        return f"{where}: {path}: {self.message}"


class ConfigFileInvalid(ValueError):
    """The file is refused whole; ``errors`` lists every problem found."""

    def __init__(self, errors: list[ConfigError]):
        super().__init__(f"{len(errors)} error(s) in the configuration file")
        self.errors = errors


@dataclass
class Parsed:
    """A parsed file: the data, and where each value (and each mapping key) sits in the text."""

    data: Any
    marks: dict[tuple, tuple[int, int]]
    key_marks: dict[tuple, tuple[int, int]]

    def where(self, path: tuple, *, key: bool = False) -> tuple[int | None, int | None]:
        """The position of ``path`` (or of its nearest enclosing value)."""
        path = tuple(path)
        if key and path in self.key_marks:
            return self.key_marks[path]
        while path:
            if path in self.marks:
                return self.marks[path]
            path = path[:-1]
        return self.marks.get((), (None, None))

    def error(self, path: tuple, message: str, *, key: bool = False) -> ConfigError:
        line, column = self.where(path, key=key)
        return ConfigError(tuple(path), line, column, message)


_SCALARS = yaml.constructor.SafeConstructor()
_TEXT_TAGS = {"tag:yaml.org,2002:timestamp"}  # kept as text: the model parses dates and times itself


def _mark(node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


_RESOLVED: dict[tuple, str] = {}  # (plain text, implicit) -> tag: field names and handlings repeat thousands of times


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's parser with a memo in front of PyYAML's (pure Python, regex-per-scalar) tag resolver."""

    def resolve(self, kind, value, implicit):
        if kind is not yaml.ScalarNode:
            return super().resolve(kind, value, implicit)
        key = (value, implicit)
        tag = _RESOLVED.get(key)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(_RESOLVED) < 50_000:
                _RESOLVED[key] = tag
        return tag


def parse(text: str) -> Parsed:
    """Parse YAML keeping positions; raises ``ConfigFileInvalid`` on a syntax error or a repeated mapping key."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        raise ConfigFileInvalid([ConfigError((), line, column, f"YAML syntax: {exc.problem or exc}")]) from None
    except yaml.YAMLError as exc:
        raise ConfigFileInvalid([ConfigError((), None, None, f"YAML: {exc}")]) from None
    parsed = Parsed(None, {(): (1, 1)}, {})
    errors: list[ConfigError] = []

    def build(node, path: tuple):
        parsed.marks[path] = _mark(node)
        if isinstance(node, yaml.ScalarNode):
            if node.tag in _TEXT_TAGS or (node.tag == "tag:yaml.org,2002:int" and ":" in node.value):
                return node.value  # 10:30 is a time of day here, not YAML 1.1's sexagesimal 630
            return _SCALARS.construct_object(node)
        if isinstance(node, yaml.SequenceNode):
            return [build(item, (*path, i)) for i, item in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            out: dict = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    errors.append(ConfigError(path, *_mark(key_node), "mapping keys must be plain text"))
                    continue
                key = key_node.value
                if key in out:
                    errors.append(ConfigError((*path, key), *_mark(key_node), f"key {key!r} given twice"))
                    continue
                parsed.key_marks[(*path, key)] = _mark(key_node)
                out[key] = build(value_node, (*path, key))
            return out
        return None

    parsed.data = build(root, ()) if root is not None else {}
    if errors:
        raise ConfigFileInvalid(errors)
    return parsed


# ---------------------------------------------------------------------------
# Checks the schema cannot express: natural keys, references
# ---------------------------------------------------------------------------


def check_keys_and_references(parsed: Parsed) -> list[ConfigError]:
    """Duplicate natural keys, teams missing from ``teams``, rule references to rules not in the file."""
    doc = parsed.data
    errors: list[ConfigError] = []
    teams = set(doc.get("teams") or [])
    rule_keys = {r.get("key") for r in doc.get("rules") or [] if isinstance(r, dict)}
    for name in SECTION_ORDER:
        section = SECTIONS[name]
        seen: dict[str, int] = {}
        for index, obj in enumerate(_objects(doc, name)):
            key = section.natural_key(obj)
            if key in seen:
                errors.append(
                    parsed.error((name, index, section.key[0]), f"duplicate {name} key {key!r} (first at #{seen[key]})")
                )
            else:
                seen[key] = index
            team_field = TEAM_FIELDS.get(name)
            team = obj.get(team_field) if team_field else None
            if team is not None and team not in teams:
                errors.append(parsed.error((name, index, team_field), f"team {team!r} is not in the file's teams list"))
            for ref in ("clears", "rule"):
                if name in ("rules", "maintenance_windows") and obj.get(ref) is not None:
                    if obj[ref] not in rule_keys:
                        errors.append(parsed.error((name, index, ref), f"no rule with key {obj[ref]!r} in the file"))
    return errors


def _objects(doc: dict, name: str) -> list[dict]:
    if name == "runtime_settings":
        value = doc.get(name) or {}
        return [{"name": k, "value": v} for k, v in value.items()] if isinstance(value, dict) else []
    return [o for o in doc.get(name) or [] if isinstance(o, dict)]


def schema_errors(parsed: Parsed, validator, quick_check=None) -> list[ConfigError]:
    """The JSON Schema's errors (``validator``: a ``jsonschema`` validator), each at its position.

    ``quick_check(data) -> bool`` (a compiled validator's ``is_valid``) may answer "valid" first:
    the ``jsonschema`` walk, which reports where each error is, then runs for invalid files only.
    """
    if quick_check is not None and quick_check(parsed.data):
        return []
    errors = []
    for err in sorted(validator.iter_errors(parsed.data), key=lambda e: [str(p) for p in e.absolute_path]):
        path = tuple(err.absolute_path)
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = set(err.schema.get("properties", {}))
            for extra in sorted(set(err.instance) - allowed):
                errors.append(parsed.error((*path, extra), f"unknown field {extra!r}", key=True))
            continue
        errors.append(parsed.error(path, err.message))
    return errors


# ---------------------------------------------------------------------------
# Canonical form, writing, diff
# ---------------------------------------------------------------------------


def normalised(name: str, obj: dict) -> dict:
    """Every field of the section, in file order, with the defaults filled in."""
    section = SECTIONS[name]
    return {f: obj.get(f, section.defaults.get(f)) for f in section.fields}


def sections_of(doc: dict, only: Iterable[str] | None = None) -> dict[str, list[dict]]:
    """The document's objects per section, normalised and sorted by natural key."""
    names = [n for n in SECTION_ORDER if only is None or n in only]
    out = {}
    for name in names:
        section = SECTIONS[name]
        objs = [normalised(name, o) for o in _objects(doc, name)]
        out[name] = sorted(objs, key=lambda o: tuple(str(o[k]) for k in section.key))
    return out


def _compact(name: str, obj: dict) -> dict:
    defaults = SECTIONS[name].defaults
    return {
        f: v
        for f, v in obj.items()
        if not (f in defaults and v == defaults[f] and f not in SECTIONS[name].key) and v is not None
    }


def dump(doc: dict, only: Iterable[str] | None = None) -> str:
    """The canonical text of a document: same configuration, same bytes (block-style YAML)."""
    only = set(only) if only else None
    out: dict[str, Any] = {"format": FORMAT, "teams": sorted(set(doc.get("teams") or []))}
    for name, objs in sections_of(doc, only).items():
        if name == "runtime_settings":
            out[name] = {o["name"]: o["value"] for o in objs}
        elif name == "lookup_tables":
            out[name] = [
                {**_compact(name, o), "rows": {k: o["rows"][k] for k in sorted(o["rows"] or {})}} for o in objs
            ]
        else:
            out[name] = [_compact(name, o) for o in objs]
    lines = [HEADER.rstrip("\n")]
    emit_mapping(out, "", lines)
    return "\n".join(lines) + "\n"


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def diff(live: dict, wanted: dict, *, prune: bool = False, only: Iterable[str] | None = None) -> dict:
    """What applying ``wanted`` over ``live`` changes, per section and natural key, field by field.

    ``removed`` lists what the file lacks; it is deleted only with ``prune`` (``pruned`` says which).
    """
    names = set(only) if only else set(SECTION_ORDER)
    live_sections = sections_of(live, names)
    wanted_sections = sections_of(wanted, names)
    out: dict[str, dict] = {}
    for name in SECTION_ORDER:
        if name not in names:
            continue
        section = SECTIONS[name]
        before = {section.natural_key(o): o for o in live_sections[name]}
        after = {section.natural_key(o): o for o in wanted_sections[name]}
        changed = {}
        for key in sorted(set(before) & set(after)):
            fields = _field_changes(name, before[key], after[key])
            if fields:
                changed[key] = fields
        added = sorted(set(after) - set(before))
        removed = sorted(set(before) - set(after))
        if added or changed or removed:
            out[name] = {"added": added, "changed": changed, "removed": removed, "pruned": prune}
    return out


def _field_changes(name: str, old: dict, new: dict) -> dict:
    if name != "lookup_tables":
        return {f: {"from": old[f], "to": new[f]} for f in old if old[f] != new[f]}
    out = {f: {"from": old[f], "to": new[f]} for f in old if f != "rows" and old[f] != new[f]}
    old_rows, new_rows = old["rows"] or {}, new["rows"] or {}
    added = len(set(new_rows) - set(old_rows))
    removed = len(set(old_rows) - set(new_rows))
    changed = sum(1 for k in set(old_rows) & set(new_rows) if old_rows[k] != new_rows[k])
    if added or removed or changed:
        out["rows"] = {"added": added, "changed": changed, "removed": removed}
    return out


def diff_text(changes: dict) -> list[str]:
    """The diff as lines for a terminal: ``+`` added, ``~`` changed (field: old → new), ``-`` removed."""
    lines = []
    for name, part in changes.items():
        for key in part["added"]:
            lines.append(f"+ {name}/{key}")
        for key, fields in part["changed"].items():
            for field, change in fields.items():
                if field == "rows" and "added" in change:
                    lines.append(f"~ {name}/{key}: rows +{change['added']} ~{change['changed']} -{change['removed']}")
                else:
                    lines.append(f"~ {name}/{key}: {field}: {change['from']!r} → {change['to']!r}")
        for key in part["removed"]:
            lines.append(f"- {name}/{key}" + ("" if part["pruned"] else "  (kept: not in the file; --prune removes)"))
    return lines


def apply_plan(changes: dict) -> Callable[[str], tuple[list[str], list[str], list[str]]]:
    """(added, changed, removed-if-pruned) keys per section, for the writer."""

    def of(name: str) -> tuple[list[str], list[str], list[str]]:
        part = changes.get(name)
        if not part:
            return [], [], []
        return part["added"], list(part["changed"]), part["removed"] if part["pruned"] else []

    return of
