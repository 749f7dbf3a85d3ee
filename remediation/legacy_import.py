"""Upgrade from MUTT v2.3: its rules, hosts, teams and audit history, and the events still in its Redis lists.

Idempotent: each rule, host and team mapping brought over is recorded in
``legacy_imports`` (v2.3 key -> MUTT row) in the same transaction as the
row itself, audit rows carry a correlation id derived from their v2.3 id
(``ON CONFLICT DO NOTHING``), and drained Redis chunks are recorded before
they are trimmed from v2.3's list. A second run finds everything recorded
and changes nothing. Every configuration row created is audited
(``config_audit_log``, changed_by ``import_v23``).

Draining (``--redis``) expects v2.3 stopped. It takes a chunk from the head
of a list (LRANGE), stores it as one inbox batch plus its record in one
transaction, then removes exactly that chunk (WATCH/MULTI: LTRIM only if the
list's head is still that chunk). A crash between the commit and the trim
leaves a recorded chunk at the head: the next run sees the record and only
trims. Each queued message thus reaches the inbox exactly once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
import psycopg2
import psycopg2.extras
import redis as redis_lib
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from alerts.inbox import batch_accept
from alerts.models import DeadLetter, LegacyImport
from alerts.services.config import ConfigChange, config_audit_write, dev_host_create, device_team_create, rule_create
from alerts.v23 import handling_convert, priorities_convert, severity_convert
from alerts.wakeup import WakeKind, wake_on_commit
from ingest.parsing import EventError, Limits, normalise_event
from mutt_project import redis_keys

log = logging.getLogger(__name__)

IMPORTER = "import_v23"
# Correlation ids of imported audit rows: uuid5 of the v2.3 row id in this namespace.
AUDIT_NAMESPACE = uuid.UUID("6f1d7c7e-2f57-4a0c-9d7b-5d0f3c8e2a23")
CHUNK = 500


@dataclass
class ImportReport:
    rules: int = 0
    dev_hosts: int = 0
    device_teams: int = 0
    audit_rows: int = 0
    queued_events: int = 0
    unreadable_messages: int = 0
    skipped: int = 0
    lists: dict[str, int] = field(default_factory=dict)

    def changed(self) -> bool:
        return any((self.rules, self.dev_hosts, self.device_teams, self.audit_rows, self.queued_events))


def _recorded(key: str) -> LegacyImport | None:
    return LegacyImport.objects.filter(key=key).first()


# ---------------------------------------------------------------------------
# PostgreSQL: rules, hosts, teams, audit history
# ---------------------------------------------------------------------------


def _rows(source, sql: str) -> list[dict]:
    with source.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cursor:
        cursor.execute(sql)
        return [dict(r) for r in cursor.fetchall()]


def _rules_import(source, report: ImportReport, change: ConfigChange) -> dict[int, int]:
    """v2.3 rule id -> MUTT rule id (existing records included)."""
    rules = _rows(source, "SELECT * FROM alert_rules ORDER BY id")
    priorities = priorities_convert({r["id"]: r["priority"] for r in rules})
    mapping: dict[int, int] = {}
    for rule in rules:
        key = f"alert_rules:{rule['id']}"
        done = _recorded(key)
        if done is not None:
            mapping[rule["id"]] = done.target_id
            report.skipped += 1
            continue
        match_type = rule["match_type"]
        data = {
            "match_string": rule["match_string"],
            "trap_oid": (rule["trap_oid"] or "").lstrip(".") or None,
            "syslog_severity": severity_convert(rule.get("syslog_severity")),
            "match_type": match_type,
            "priority": priorities[rule["id"]],
            "prod_handling": handling_convert(rule["prod_handling"]),
            "dev_handling": handling_convert(rule["dev_handling"]),
            "team_assignment": rule["team_assignment"],
            "is_active": rule["is_active"],
            "description": f"imported from v2.3 rule #{rule['id']} (priority {rule['priority']}, lower won)",
        }
        with transaction.atomic():
            created = rule_create(data=data, change=change)
            LegacyImport.objects.create(key=key, target_id=created.pk, detail={"v23_priority": rule["priority"]})
        mapping[rule["id"]] = created.pk
        report.rules += 1
    return mapping


def _hosts_import(source, report: ImportReport, change: ConfigChange) -> None:
    from alerts.models import DevelopmentHost, DeviceTeam

    for host in _rows(source, "SELECT * FROM development_hosts ORDER BY hostname"):
        key = f"development_hosts:{host['hostname']}"
        if _recorded(key) or DevelopmentHost.objects.filter(hostname=host["hostname"]).exists():
            report.skipped += 1
            continue
        with transaction.atomic():
            created = dev_host_create(
                data={"hostname": host["hostname"], "description": host.get("description") or ""}, change=change
            )
            LegacyImport.objects.create(key=key, target_id=created.pk)
        report.dev_hosts += 1
    for team in _rows(source, "SELECT * FROM device_teams ORDER BY hostname"):
        key = f"device_teams:{team['hostname']}"
        if _recorded(key) or DeviceTeam.objects.filter(hostname=team["hostname"]).exists():
            report.skipped += 1
            continue
        with transaction.atomic():
            created = device_team_create(
                data={"hostname": team["hostname"], "team_assignment": team["team_assignment"]}, change=change
            )
            LegacyImport.objects.create(key=key, target_id=created.pk)
        report.device_teams += 1


_AUDIT_INSERT = """
INSERT INTO event_audit_log (received_at, event_timestamp, processed_at, hostname, message, source, syslog_severity,
    trap_oid, rule_id, team_assignment, handling, is_dev, correlation_id, raw_payload, forward_status, forwarded_at)
VALUES %s
ON CONFLICT (correlation_id, received_at) DO NOTHING
"""


def _audit_row(row: dict, rules: dict[int, int]) -> tuple:
    raw = row["raw_message"] if isinstance(row["raw_message"], dict) else {"message": str(row["raw_message"])}
    trap_oid = raw.get("trap_oid") or None
    try:
        severity = severity_convert(raw.get("syslog_severity", raw.get("severity")))
    except ValueError:
        severity = None
    payload = {**raw, "v23": {"id": row["id"], "matched_rule_id": row["matched_rule_id"]}}
    if row.get("processor_pod"):
        payload["v23"]["processor_pod"] = row["processor_pod"]
    correlation_id = uuid.uuid5(AUDIT_NAMESPACE, str(row["id"]))
    forwarded = bool(row["forwarded_to_moog"])
    return (
        row["processed_at"],
        row["event_timestamp"],
        row["processed_at"],
        row["hostname"][:255],
        str(raw.get("message") or ""),
        "snmp" if trap_oid else "syslog",
        severity,
        trap_oid,
        rules.get(row["matched_rule_id"]) if row["matched_rule_id"] is not None else None,
        raw.get("team_assignment") or raw.get("team"),
        handling_convert(row["handling_decision"]),
        bool(raw.get("is_dev", False)),
        str(correlation_id),
        json.dumps(payload, default=str),
        "sent" if forwarded else "none",
        row["processed_at"] if forwarded else None,
    )


def _audit_import(source, report: ImportReport, rules: dict[int, int]) -> None:
    """v2.3 audit rows in id order, in chunks; the partition of each month is made first."""
    with source.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT date_trunc('month', processed_at AT TIME ZONE 'UTC')::date FROM event_audit_log"
        )
        months = [r[0] for r in cursor.fetchall()]
    with connection.cursor() as cursor:
        for month in months:
            cursor.execute("SELECT create_monthly_partition(%s)", [month])
    last = 0
    while True:
        with source.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cursor:
            cursor.execute("SELECT * FROM event_audit_log WHERE id > %s ORDER BY id LIMIT %s", [last, 5000])
            rows = cursor.fetchall()
        if not rows:
            return
        values = [_audit_row(dict(r), rules) for r in rows]
        with transaction.atomic(), connection.cursor() as cursor:
            psycopg2.extras.execute_values(cursor.cursor, _AUDIT_INSERT, values, page_size=1000)
            report.audit_rows += max(cursor.cursor.rowcount, 0)
        last = rows[-1]["id"]


def database_import(dsn: str, report: ImportReport, change: ConfigChange) -> None:
    source = psycopg2.connect(dsn, connect_timeout=settings.DATABASES["default"]["OPTIONS"].get("connect_timeout", 5))
    source.set_session(readonly=True)
    try:
        rules = _rules_import(source, report, change)
        _hosts_import(source, report, change)
        _audit_import(source, report, rules)
    finally:
        source.close()


# ---------------------------------------------------------------------------
# Redis: the events still queued in v2.3's lists
# ---------------------------------------------------------------------------


def v23_lists(client: redis_lib.Redis) -> list[str]:
    names = [redis_keys.V23_INGEST_QUEUE, redis_keys.V23_ALERT_QUEUE, *redis_keys.V23_DLQ_LISTS]
    for pattern in redis_keys.V23_PROCESSING_PATTERNS:
        names += sorted(k for k in client.scan_iter(match=pattern, count=500) if client.type(k) == "list")
    seen: set[str] = set()
    return [n for n in names if not (n in seen or seen.add(n)) and client.type(n) == "list"]


def _events(chunk: list[str], limits: Limits, received_at: str) -> tuple[list[dict], list[str]]:
    events, bad = [], []
    for raw in chunk:
        try:
            obj = orjson.loads(raw)
            # v2.3 alert_queue messages wrap the event; take the event itself when there is one.
            if isinstance(obj, dict) and isinstance(obj.get("event"), dict):
                obj = obj["event"]
            events.append(normalise_event(obj, limits, received_at))
        except (orjson.JSONDecodeError, EventError):
            bad.append(raw)
    return events, bad


def _chunk_store(name: str, chunk: list[str], key: str, report: ImportReport) -> None:
    now = timezone.now()
    limits = Limits(settings.INGEST_MAX_EVENTS_PER_REQUEST, settings.INGEST_MAX_MESSAGE_BYTES)
    events, bad = _events(chunk, limits, now.isoformat())
    with transaction.atomic():
        if events:
            batch_accept(events_json=orjson.dumps(events).decode(), event_count=len(events), received_at=now)
            wake_on_commit(WakeKind.CLASSIFY)
        for raw in bad:
            DeadLetter.objects.create(
                stage="classify",
                payload={"v23_list": name, "raw": raw[:65536]},
                last_error="v2.3 queued message is not a valid event",
            )
        LegacyImport.objects.create(key=key, detail={"list": name, "events": len(events), "unreadable": len(bad)})
    report.queued_events += len(events)
    report.unreadable_messages += len(bad)


def _chunk_trim(client: redis_lib.Redis, name: str, chunk: list[str]) -> bool:
    """Remove ``chunk`` from the head of ``name`` if it is still there; False when the list moved."""
    with client.pipeline() as pipe:
        try:
            pipe.watch(name)
            if pipe.lrange(name, 0, len(chunk) - 1) != chunk:
                pipe.unwatch()
                return False
            pipe.multi()
            pipe.ltrim(name, len(chunk), -1)
            pipe.execute()
            return True
        except redis_lib.WatchError:
            return False


def redis_drain(url: str, report: ImportReport) -> None:
    client = redis_lib.Redis.from_url(url, decode_responses=True, socket_timeout=10)
    for name in v23_lists(client):
        drained = 0
        while chunk := client.lrange(name, 0, CHUNK - 1):
            digest = hashlib.sha256("\x1e".join(chunk).encode()).hexdigest()
            key = f"redis:{name}:{digest}"[:255]
            if _recorded(key) is None:
                _chunk_store(name, chunk, key, report)
            if not _chunk_trim(client, name, chunk):
                raise RuntimeError(f"{name} changed while draining: is MUTT v2.3 still running? Stop it and rerun.")
            drained += len(chunk)
        if drained:
            report.lists[name] = drained
    client.close()


def import_v23(*, dsn: str | None, redis_url: str | None, user: str = IMPORTER) -> ImportReport:
    report = ImportReport()
    change = ConfigChange(user=user, reason="upgrade from MUTT v2.3 (import_v23)")
    if dsn:
        database_import(dsn, report, change)
    if redis_url:
        redis_drain(redis_url, report)
    if report.changed():
        with transaction.atomic():
            config_audit_write(
                change=change,
                operation="CREATE",
                table_name="legacy_imports",
                record_id=None,
                old_values=None,
                new_values={
                    "rules": report.rules,
                    "dev_hosts": report.dev_hosts,
                    "device_teams": report.device_teams,
                    "audit_rows": report.audit_rows,
                    "queued_events": report.queued_events,
                    "unreadable_messages": report.unreadable_messages,
                    "lists": report.lists,
                    "at": datetime.now(UTC).isoformat(),
                },
            )
    return report
