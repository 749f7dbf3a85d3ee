"""Reads for the alerts domain."""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from datetime import datetime

import orjson
from django.db import connection
from django.db.models import Count, Max, Min, Q, QuerySet

from alerts.enrichment import LookupData, Lookups
from alerts.maintenance import Window
from alerts.models import (
    AlertOutbox,
    AlertRule,
    DeadLetter,
    DevelopmentHost,
    DeviceTeam,
    EventAuditLog,
    LookupTable,
    MaintenanceWindow,
    OidMapping,
)
from alerts.rule_engine import RuleSpec
from alerts.traps import TrapMapping
from mutt_project.replica import replica_reads

# Every field of the engine's RuleSpec is an AlertRule attribute of the same name.
_RULE_SPEC_FIELDS = tuple(f.name for f in dataclass_fields(RuleSpec))


def rule_spec(rule: AlertRule, *, rule_id: int | None = None) -> RuleSpec:
    """The engine's view of one rule, saved or draft: the one mapping classification and the rule lab share."""
    values = {name: getattr(rule, name) for name in _RULE_SPEC_FIELDS}
    if rule_id is not None:
        values["id"] = rule_id
    return RuleSpec(**values)


def rules_active_specs() -> list[RuleSpec]:
    return [RuleSpec(**row) for row in AlertRule.objects.filter(is_active=True).values(*_RULE_SPEC_FIELDS)]


def trap_mappings_active() -> list[TrapMapping]:
    """The active ``oid_mappings`` rows as the engine's ``TrapMapping`` (compiled with the rules)."""
    fields = [f.name for f in dataclass_fields(TrapMapping)]
    return [TrapMapping(**row) for row in OidMapping.objects.filter(is_active=True).values(*fields)]


def maintenance_windows_active() -> list[Window]:
    """The enabled maintenance windows as the pure ``Window`` (compiled with the rules)."""
    return [
        Window(
            id=w.pk,
            kind=w.kind,
            timezone=w.timezone,
            starts_at=w.starts_at,
            ends_at=w.ends_at,
            weekdays=w.weekday_list(),
            start_time=w.start_time,
            end_time=w.end_time,
            host_pattern=w.host_pattern,
            team=w.team,
            rule_id=w.rule_id,
        )
        for w in MaintenanceWindow.objects.filter(is_active=True)
    ]


def lookup_tables_stamp() -> tuple:
    """What changes when any lookup table is written (its rows are replaced with a save of the table)."""
    return tuple(LookupTable.objects.order_by("id").values_list("id", "updated_at"))


def lookup_tables_load() -> Lookups:
    """Every lookup table with its rows, compiled for ``RuleSet`` (one query per table, JSON parsed by orjson)."""
    tables = []
    with connection.cursor() as cursor:
        for table in LookupTable.objects.order_by("name"):
            cursor.execute("SELECT key, values::text FROM lookup_rows WHERE table_id = %s", [table.pk])
            rows = {key: tuple(orjson.loads(values)) for key, values in cursor.fetchall()}
            tables.append(LookupData(table.name, table.key_column, tuple(table.value_columns), rows))
    return Lookups(tables)


def dev_hosts_list() -> list[str]:
    return list(DevelopmentHost.objects.values_list("hostname", flat=True))


def device_teams_map() -> dict[str, str]:
    return dict(DeviceTeam.objects.values_list("hostname", "team_assignment"))


# ---------------------------------------------------------------------------
# Event audit search and one event's trace (REST API, admin)
# ---------------------------------------------------------------------------

EVENT_LIST_FIELDS = (
    "id",
    "correlation_id",
    "received_at",
    "event_timestamp",
    "processed_at",
    "hostname",
    "message",
    "source",
    "syslog_severity",
    "trap_oid",
    "rule_id",
    "team_assignment",
    "handling",
    "is_dev",
    "forward_status",
    "forwarded_at",
)


@dataclass(frozen=True)
class EventCursor:
    """Keyset position: the last row of a page, newest first (received_at, id)."""

    received_at: datetime
    id: int

    def encode(self) -> str:
        raw = f"{self.received_at.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> EventCursor:
        """Raises ValueError on anything that is not a cursor this API handed out."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            stamp, _, ident = raw.partition("|")
            received_at = datetime.fromisoformat(stamp)
            if received_at.tzinfo is None:
                raise ValueError("naive")
            return cls(received_at=received_at, id=int(ident))
        except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
            raise ValueError("invalid cursor") from exc


@dataclass(frozen=True)
class EventFilters:
    """What to look for; ``since``/``until`` bound the partitions PostgreSQL reads."""

    since: datetime
    until: datetime
    hostname: str | None = None
    rule_id: int | None = None
    handling: str | None = None
    team: str | None = None
    forward_status: str | None = None
    source: str | None = None
    q: str | None = None
    unmatched: bool = False  # rule_id=none: the events no rule matched


@dataclass(frozen=True)
class EventPage:
    events: list[dict]
    next_cursor: str | None
    total_estimate: int


def _hostname_filter(pattern: str) -> Q:
    pattern = pattern.strip().lower()
    if "*" not in pattern:
        return Q(hostname=pattern)
    parts = pattern.split("*")
    if len(parts) == 2 and parts[1] == "":
        return Q(hostname__startswith=parts[0])
    return Q(hostname__regex="^" + ".*".join(re.escape(p) for p in parts) + "$")


def events_queryset(filters: EventFilters) -> QuerySet:
    """Event audit rows matching ``filters``, newest first; always bounded to the time window."""
    qs = EventAuditLog.objects.filter(received_at__gte=filters.since, received_at__lt=filters.until)
    if filters.hostname:
        qs = qs.filter(_hostname_filter(filters.hostname))
    if filters.rule_id is not None:
        qs = qs.filter(rule_id=filters.rule_id)
    if filters.unmatched:
        qs = qs.filter(rule_id__isnull=True)
    for field, value in (
        ("handling", filters.handling),
        ("team_assignment", filters.team),
        ("forward_status", filters.forward_status),
        ("source", filters.source),
    ):
        if value:
            qs = qs.filter(**{field: value})
    if filters.q:
        qs = qs.filter(message__icontains=filters.q)
    return qs.order_by("-received_at", "-id")


def queryset_estimated_count(qs: QuerySet) -> int:
    """The planner's row estimate for ``qs``: costs a plan, never a scan (no COUNT(*) over the audit trail)."""
    plan = json.loads(qs.order_by().explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


def events_search(*, filters: EventFilters, limit: int, cursor: EventCursor | None = None) -> EventPage:
    """One page of the event audit trail, newest first, keyset-paginated (no OFFSET, no COUNT)."""
    with replica_reads():  # the read replica when set and fresh (docs/ha.md)
        qs = events_queryset(filters)
        page_qs = qs
        if cursor is not None:
            page_qs = qs.filter(
                Q(received_at__lt=cursor.received_at) | Q(received_at=cursor.received_at, id__lt=cursor.id)
            )
        rows = list(page_qs.values(*EVENT_LIST_FIELDS)[: limit + 1])
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor = EventCursor(received_at=rows[-1]["received_at"], id=rows[-1]["id"]).encode()
        return EventPage(events=rows, next_cursor=next_cursor, total_estimate=queryset_estimated_count(qs))


def event_trace(correlation_id: uuid.UUID) -> dict | None:
    """What happened to one event: its audit row, the matched rule, the forwarding outcome, any dead letter.

    None when MUTT knows nothing of the id (not classified yet, or never received).
    """
    with replica_reads():
        audit = (
            EventAuditLog.objects.filter(correlation_id=correlation_id)
            .order_by("-received_at")
            .values(*EVENT_LIST_FIELDS, "raw_payload", "batch_id")
            .first()
        )
        outbox = (
            AlertOutbox.objects.filter(correlation_id=correlation_id)
            .values("id", "attempts", "next_attempt_at", "last_error", "created_at")
            .first()
        )
        letters = list(
            DeadLetter.objects.filter(correlation_id=correlation_id).values(
                "id", "stage", "status", "attempts", "response_status", "last_error", "next_attempt_at", "created_at"
            )
        )
    if audit is None and outbox is None and not letters:
        return None
    rule = None
    if audit and audit["rule_id"] is not None:
        rule = AlertRule.objects.filter(pk=audit["rule_id"]).first()
    forward_status = audit["forward_status"] if audit else None
    return {
        "correlation_id": correlation_id,
        "event": audit,
        "rule": rule,
        "forwarding": {
            "status": forward_status,
            "forwarded_at": audit["forwarded_at"] if audit else None,
            "outbox": outbox,
        },
        "dead_letters": letters,
    }


def unmatched_summary(*, since: datetime, until: datetime, limit: int = 100) -> list[dict]:
    """Hosts whose events no rule matched in the window: count, first and last seen, a sample message.

    Bounded by the window (the partitions it spans, the unmatched partial index on
    received_at), never a count over the whole audit trail; the busiest hosts first.
    """
    return list(
        EventAuditLog.objects.filter(received_at__gte=since, received_at__lt=until, rule_id__isnull=True)
        .values("hostname")
        .annotate(count=Count("id"), first_seen=Min("received_at"), last_seen=Max("received_at"), sample=Max("message"))
        .order_by("-count", "hostname")[:limit]
    )
