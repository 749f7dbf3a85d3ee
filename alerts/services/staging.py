"""Staging (pure): one event and its rule decision become one COPY line for the staging table.

No Django, no database, no Redis: given the event, the decision and the
times, the line is fully determined. ``alerts.services.committing`` COPYs the
lines into ``classify_stage`` and moves them into the audit log and the
outbox (docs/architecture.md, "Classify").

An event PostgreSQL would refuse (wrong types, a timestamp it cannot parse)
raises ``PoisonEvent`` here, before the COPY, so one bad event is
dead-lettered alone instead of failing its whole claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import orjson

if TYPE_CHECKING:  # the contract is checked by mypy; at run time alerts imports nothing of forwarding
    from forwarding.payload import Alert

# Column order of every staged line; the committing module's SQL uses the same tuple.
STAGE_COLUMNS = (
    "received_at, event_timestamp, processed_at, hostname, message, source, syslog_severity, trap_oid, "
    "rule_id, team_assignment, handling, is_dev, correlation_id, batch_id, raw_payload, forward_status, "
    "trap_name, signature, clears, folded_into, suppressed_by, enrichment, alert_payload"
)

# Event fields that have their own audit-log column (received_at is the batch's).
# ``raw_payload`` keeps only the others: what the sender sent beyond them, as-is.
COLUMN_FIELDS = frozenset(
    {"timestamp", "hostname", "message", "source", "syslog_severity", "trap_oid", "correlation_id", "received_at"}
)

NULL = "\\N"  # COPY text format's NULL
EMAIL_ONLY = "Email_only"  # pending until an e-mail digest carries it (forwarding.email_digest)

# COPY text format: backslash, tab, newline and carriage return must be escaped.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class PoisonEvent(ValueError):
    """An event that cannot be classified or stored (dead-lettered alone)."""


class DecisionLike(Protocol):
    """What staging needs of a decision (``alerts.rule_engine.Decision`` or a meta-alert's)."""

    @property
    def rule_id(self) -> int | None: ...
    @property
    def handling(self) -> str: ...
    @property
    def team(self) -> str: ...
    @property
    def is_dev(self) -> bool: ...


@dataclass(frozen=True)
class MetaDecision:
    """The decision for a meta-alert MUTT raises itself (no rule, never a development host)."""

    handling: str
    team: str
    rule_id: None = None
    is_dev: bool = False


@dataclass(slots=True)
class Lifecycle:
    """What the lifecycle resolution (``alerts.services.lifecycle``) decided for one event."""

    forward: bool
    signature: str | None = None
    clears: str | None = None  # the correlation id of the alert this clear closes
    folded_into: str | None = None  # the first event's correlation id, for a folded repeat
    repeat_count: int = 1  # for a first: its repeats folded in the same claim, itself included
    suppressed_by: int | None = None  # the maintenance window that keeps it from Moogsoft


@dataclass(frozen=True)
class StageTimes:
    """The times shared by every line of one claim, already as ISO 8601 text."""

    processed_at: str
    received_at: str
    batch_id: str  # NULL for meta-alerts


def copy_text(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


def _checked_text(event: dict[str, Any], key: str) -> str:
    value = event[key]
    if not isinstance(value, str):
        raise PoisonEvent(f"{key} must be text")
    return value


def alert_build(
    event: dict[str, Any],
    decision: DecisionLike,
    received_at: str,
    lifecycle: Lifecycle | None = None,
    enrichment: dict | None = None,
) -> Alert:
    """The outbox payload for an event that is forwarded (see ``forwarding.payload.Alert``)."""
    severity = event.get("syslog_severity")
    if severity is None:
        severity = getattr(decision, "trap_severity", None)  # the trap mapping's default
    alert: Alert = {
        "correlation_id": event["correlation_id"],
        "hostname": event["hostname"],
        "message": event["message"],
        "syslog_severity": severity,
        "trap_oid": event.get("trap_oid"),
        "source": event.get("source") or "syslog",
        "timestamp": event["timestamp"],
        "received_at": received_at,
        "rule_id": decision.rule_id,
        "handling": decision.handling,
        "team": decision.team,
        "is_dev": decision.is_dev,
    }
    trap_name = getattr(decision, "trap_name", None)
    if trap_name:
        alert["trap_name"] = trap_name
    if enrichment:
        alert["enrichment"] = enrichment
    if lifecycle is not None:
        if lifecycle.signature:
            alert["signature"] = lifecycle.signature
        if lifecycle.clears:
            alert["is_clear"] = True
            alert["clears"] = lifecycle.clears
        if lifecycle.repeat_count > 1:
            alert["repeat_count"] = lifecycle.repeat_count
    return alert


def raw_payload(event: dict[str, Any]) -> str:
    """The event's fields that have no column of their own, as JSON (``{}`` for most events)."""
    if event.keys() <= COLUMN_FIELDS:  # the common case, checked in C
        return "{}"
    return orjson.dumps({k: v for k, v in event.items() if k not in COLUMN_FIELDS}).decode()


def _nullable(value: str | None) -> str:
    return NULL if value is None else copy_text(value)


def stage_line(
    event: object,
    decision: DecisionLike,
    times: StageTimes,
    *,
    forward: bool,
    lifecycle: Lifecycle | None = None,
    enrichment: dict | None = None,
) -> str:
    """One COPY line for the staging table; raises ``PoisonEvent`` for an event PostgreSQL would refuse."""
    if not isinstance(event, dict):
        raise PoisonEvent("event is not an object")
    try:
        datetime.fromisoformat(_checked_text(event, "timestamp"))  # a bad timestamp would fail the whole COPY
    except ValueError as exc:
        raise PoisonEvent(f"timestamp: {exc}") from None
    message = _checked_text(event, "message")
    hostname = _checked_text(event, "hostname")
    correlation_id = _checked_text(event, "correlation_id")
    severity = event.get("syslog_severity")
    if severity is not None and (type(severity) is not int or not 0 <= severity <= 7):
        raise PoisonEvent("syslog_severity must be an integer 0-7")
    trap_oid = event.get("trap_oid")
    if lifecycle is not None:
        forward = lifecycle.forward
    alert = (
        copy_text(orjson.dumps(alert_build(event, decision, times.received_at, lifecycle, enrichment)).decode())
        if forward
        else NULL
    )
    return "\t".join(
        (
            times.received_at,
            event["timestamp"],
            times.processed_at,
            copy_text(hostname),
            copy_text(message),
            copy_text(str(event.get("source") or "syslog")),
            NULL if severity is None else str(severity),
            NULL if trap_oid is None else copy_text(str(trap_oid)),
            NULL if decision.rule_id is None else str(decision.rule_id),
            copy_text(decision.team),
            decision.handling,
            "t" if decision.is_dev else "f",
            correlation_id,
            times.batch_id,
            copy_text(raw_payload(event)),
            "pending" if forward or decision.handling == EMAIL_ONLY else "none",  # e-mail: digested later
            _nullable(getattr(decision, "trap_name", None)),
            NULL if lifecycle is None else _nullable(lifecycle.signature),
            NULL if lifecycle is None or lifecycle.clears is None else lifecycle.clears,
            NULL if lifecycle is None or lifecycle.folded_into is None else lifecycle.folded_into,
            NULL if lifecycle is None or lifecycle.suppressed_by is None else str(lifecycle.suppressed_by),
            copy_text(orjson.dumps(enrichment).decode()) if enrichment else NULL,
            alert,
        )
    )


def meta_alert_event(
    *, correlation_id: str, hostname: str, count: int, window_seconds: int, window_start: str, now: str
) -> dict[str, Any]:
    """The event MUTT records for an unhandled-event flood of ``hostname``."""
    return {
        "correlation_id": correlation_id,
        "hostname": hostname,
        "message": (f"Unhandled event flood: {hostname} sent {count} events no rule matched within {window_seconds} s"),
        "timestamp": now,
        "source": "syslog",
        "syslog_severity": None,
        "trap_oid": None,
        "meta_alert": "unhandled_flood",
        "window_start": window_start,
    }
