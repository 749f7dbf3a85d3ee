"""Rule lab services: draft rule sets and explaining events (read-only: nothing is saved).

A *draft* is a list of rule dicts evaluated on top of the live active rules
(or instead of them with ``replace``): a dict with an ``id`` edits that rule
(``"is_active": false`` deactivates it), one without adds a new rule. Every
draft is checked with the model's own ``full_clean``, so the admin, the API
and the backtest refuse the same bad rule with the same messages.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Max
from django.utils.module_loading import import_string

from alerts.models import AlertRule
from alerts.rule_cache import ruleset_current
from alerts.rule_engine import RuleSet, RuleSpec
from alerts.rule_explain import explain
from alerts.selectors import rule_spec

# The Moogsoft mapping belongs to forwarding, and alerts imports no other app:
# like the forwarder wake-up (by task name), it is resolved by name, so explain
# shows exactly the payload the forwarder would send.
MOOG_PAYLOAD_MAPPER = "forwarding.payload.moog_payload"

DRAFT_FIELDS = (
    "match_string",
    "trap_oid",
    "syslog_severity",
    "match_type",
    "priority",
    "prod_handling",
    "dev_handling",
    "team_assignment",
    "description",
    "is_active",
)
MAX_SAMPLE_EVENTS = 1000
# The syslog severity names ingest accepts (alerts imports nothing from ingest, so they are listed here too).
SEVERITY_NAMES = {
    "emerg": 0, "emergency": 0, "panic": 0, "alert": 1, "crit": 2, "critical": 2, "err": 3, "error": 3,
    "warning": 4, "warn": 4, "notice": 5, "info": 6, "informational": 6, "debug": 7,
}  # fmt: skip


class DraftInvalid(ValueError):
    """A draft rule the model refuses; ``messages`` maps the draft's index to the model's messages."""

    def __init__(self, messages: dict[str, object]):
        super().__init__("draft rules refused")
        self.messages = messages


@dataclass(frozen=True)
class DraftRuleSet:
    """A compiled rule set with a draft applied (or the live set when there is no draft)."""

    ruleset: RuleSet
    draft_ids: frozenset[int]  # ids of the rules the draft added or changed
    draft_specs: tuple[RuleSpec, ...]  # the draft's active rules alone (for "would match" counts)
    removed_ids: frozenset[int]  # rules the draft deactivated
    # The draft's rules plus the live versions of the rules it edits or removes: an event none of
    # them matches gets the same decision before and after (None with "replace": compare everything).
    touched_specs: tuple[RuleSpec, ...] | None = None
    base: RuleSet | None = None  # the live set the draft was applied to (the backtest's "current")


def rule_drafts_validate(drafts) -> list[tuple[AlertRule, int]]:
    """Model instances (unsaved, ``full_clean``-ed) for the drafts, each with the id it gets in the set.

    A new rule gets an id above every existing one: the id a save would give it,
    so a priority tie resolves as it will after Save.
    """
    if not isinstance(drafts, list):
        raise DraftInvalid({"rules": ["must be a list of rule objects"]})
    errors: dict[str, object] = {}
    out: list[tuple[AlertRule, int]] = []
    next_id = (AlertRule.objects.aggregate(top=Max("id"))["top"] or 0) + 1
    for index, draft in enumerate(drafts):
        if not isinstance(draft, dict):
            errors[str(index)] = {"__all__": ["must be an object"]}
            continue
        unknown = sorted(set(draft) - set(DRAFT_FIELDS) - {"id"})
        if unknown:
            errors[str(index)] = {"__all__": [f"unknown field(s): {', '.join(unknown)}"]}
            continue
        fields = {k: v for k, v in draft.items() if k != "id"}
        rule_id = draft.get("id")
        if rule_id is not None:
            base = AlertRule.objects.filter(pk=rule_id).first() if isinstance(rule_id, int) else None
            if base is None:
                errors[str(index)] = {"id": [f"no rule with id {rule_id!r}"]}
                continue
            for name, value in fields.items():
                setattr(base, name, value)
            instance, assigned = base, base.pk
        else:
            instance, assigned = AlertRule(**fields), next_id
            next_id += 1
        try:
            instance.full_clean(exclude=["created_by"])
        except ValidationError as exc:
            errors[str(index)] = exc.message_dict
            continue
        out.append((instance, assigned))
    if errors:
        raise DraftInvalid(errors)
    return out


def ruleset_with_drafts(drafts=None, replace: bool = False, base: RuleSet | None = None) -> DraftRuleSet:
    """The live rules (``base``, default the process's cached set) with the drafts applied, compiled.

    Validated first (raises ``DraftInvalid``). Building on the compiled live set
    costs no query for the live rules, hosts and teams; only the draft is read and compiled.
    """
    base = base or ruleset_current()
    if not drafts and not replace:
        return DraftRuleSet(base, frozenset(), (), frozenset(), (), base)
    validated = rule_drafts_validate(drafts or [])
    live = {} if replace else {spec.id: spec for spec in base.rules}
    originals = [live[rule_id] for _, rule_id in validated if rule_id in live]
    draft_ids, removed, draft_specs = set(), set(), []
    for instance, rule_id in validated:
        if instance.is_active:
            spec = rule_spec(instance, rule_id=rule_id)
            live[rule_id] = spec
            draft_ids.add(rule_id)
            draft_specs.append(spec)
        else:
            live.pop(rule_id, None)
            removed.add(rule_id)
    ruleset = RuleSet.compile(
        live.values(),
        base.dev_hosts,
        base.teams,
        lookups=base.lookups,
        default_handling=base.default_handling,
        default_team=base.default_team,
    )
    touched = None if replace else (*draft_specs, *originals)
    return DraftRuleSet(ruleset, frozenset(draft_ids), tuple(draft_specs), frozenset(removed), touched, base)


class SampleEventInvalid(ValueError):
    """A sample event explain cannot read (reported for that event alone)."""


def sample_event_normalise(obj) -> dict:
    """The fields rules read, normalised as ingest stores them (aliases, lower-case host).

    Deliberately lenient (no timestamp or size checks): a sample is only explained, never stored.
    """
    if not isinstance(obj, Mapping):
        raise SampleEventInvalid("event must be a JSON object")
    hostname = obj.get("hostname", obj.get("host"))
    message = obj.get("message", obj.get("msg"))
    if not isinstance(hostname, str) or not hostname.strip():
        raise SampleEventInvalid("hostname is required")
    if not isinstance(message, str) or not message:
        raise SampleEventInvalid("message is required")
    severity = obj.get("syslog_severity", obj.get("severity"))
    if isinstance(severity, str) and severity.strip().lower() in SEVERITY_NAMES:
        severity = SEVERITY_NAMES[severity.strip().lower()]
    elif isinstance(severity, str) and severity.strip().isdigit():
        severity = int(severity)
    if severity == "":
        severity = None
    if severity is not None and (type(severity) is not int or not 0 <= severity <= 7):
        raise SampleEventInvalid("syslog_severity must be an integer 0-7")
    trap_oid = obj.get("trap_oid") or None
    if trap_oid is not None:
        if not isinstance(trap_oid, str):
            raise SampleEventInvalid("trap_oid must be a dotted numeric OID")
        trap_oid = trap_oid.strip().lstrip(".")
    timestamp = obj.get("timestamp") or datetime.now(UTC).isoformat()
    return {
        "timestamp": str(timestamp),
        "hostname": hostname.strip().lower(),
        "message": message,
        "syslog_severity": severity,
        "trap_oid": trap_oid,
        "source": obj.get("source") or ("snmp" if trap_oid else "syslog"),
        "correlation_id": str(obj.get("correlation_id") or uuid.uuid4()),
    }


def _moog_payload(event: dict, decision: dict) -> dict:
    alert = {
        "correlation_id": event["correlation_id"],
        "hostname": event["hostname"],
        "message": event["message"],
        "syslog_severity": event["syslog_severity"],
        "trap_oid": event["trap_oid"],
        "source": event["source"],
        "timestamp": event["timestamp"],
        "rule_id": decision["rule_id"],
        "handling": decision["handling"],
        "team": decision["team"],
        "is_dev": decision["is_dev"],
    }
    mapper = import_string(MOOG_PAYLOAD_MAPPER)
    return mapper(alert, settings.MOOG_SEVERITY_MAP, settings.MOOG_DEFAULT_SEVERITY)


def events_explain(events: list, draft: DraftRuleSet) -> list[dict]:
    """One explanation per sample event (or its error), in order."""
    forward = frozenset(settings.FORWARD_HANDLINGS)
    results = []
    for index, obj in enumerate(events):
        try:
            event = sample_event_normalise(obj)
        except SampleEventInvalid as exc:
            results.append({"index": index, "error": str(exc)})
            continue
        report = explain(draft.ruleset, event, forward_handlings=forward, draft_ids=draft.draft_ids)
        try:
            report["moog_payload"] = (
                _moog_payload(event, report["decision"]) if report["decision"]["forwarded"] else None
            )
        except ValueError as exc:  # e.g. a timestamp the mapping cannot read
            report["moog_payload"] = None
            report["moog_payload_error"] = str(exc)
        results.append({"index": index, "event": event, **report})
    return results
