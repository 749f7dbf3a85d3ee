"""Upgrade from v2.3: a v2.3 database (its schema and sample data) and 1,000 events queued in its Redis lists.

The v2.3 database is a separate database on the test server; its Redis lists
are in a separate Redis db index. Real classify workers take the drained events.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg2
import pytest
import redis
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from alerts.models import (
    AlertRule,
    ConfigAuditLog,
    DevelopmentHost,
    DeviceTeam,
    EventAuditLog,
    IngestBatch,
    LegacyImport,
)
from alerts.v23 import v23_winner
from mutt_project import redis_keys
from tests.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SCHEMA = Path(__file__).parent / "data" / "v23_schema.sql"
V23_REDIS_DB = 7

# Messages that several v2.3 sample rules match at once: v2.3 gave each to its lowest priority number.
TEMPLATES = [
    {"hostname": "core-router-01", "message": "WARNING: Interface down on Gi0/{n}"},  # Interface down (10)
    {"hostname": "edge-1", "message": "WARNING OSPF neighbor {n} down", "trap_oid": "1.3.6.1.4.1.9.1.1.1.1.2"},  # 5
    {"hostname": "dc-switch-01", "message": "CPU utilization WARNING {n}%", "syslog_severity": 2},  # CPU (20)
    {"hostname": "dev-switch-01", "message": "WARNING fan {n} slow"},  # WARNING (100)
    {"hostname": "edge-firewall-01", "message": "link {n} flapped"},  # no rule
]
LISTS = {  # list -> how many of the 1,000 messages wait there
    redis_keys.V23_INGEST_QUEUE: 600,
    redis_keys.V23_ALERT_QUEUE: 150,
    "alerter_processing:mutt-alerter-01": 100,
    "moog_processing:mutt-moog-01": 50,
    redis_keys.V23_DLQ_LISTS[0]: 60,
    redis_keys.V23_DLQ_LISTS[1]: 40,
}


def _url_with_db(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path="/" + name))


@pytest.fixture
def v23_database():
    """A v2.3 database built from its schema with its sample data, and a little audit history."""
    name = f"mutt_v23_{os.getpid()}"
    admin = psycopg2.connect(settings.DATABASE_URL)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    dsn = _url_with_db(settings.DATABASE_URL, name)
    v23 = psycopg2.connect(dsn)
    with v23, v23.cursor() as cursor:
        cursor.execute(SCHEMA.read_text())
        cursor.execute("SELECT id FROM alert_rules WHERE match_string = 'Interface down'")
        interface_rule = cursor.fetchone()[0]
        for i in range(30):
            at = datetime(2025, 11, 20, tzinfo=UTC) + timedelta(days=i)  # spans two months
            raw = {"hostname": "core-router-01", "message": f"Interface down Gi0/{i}", "timestamp": at.isoformat()}
            cursor.execute(
                "INSERT INTO event_audit_log (event_timestamp, correlation_id, hostname, matched_rule_id,"
                " handling_decision, forwarded_to_moog, raw_message, processed_at, processor_pod)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'mutt-alerter-01')",
                [at, None if i % 2 else str(uuid.uuid4()), "core-router-01", interface_rule if i % 3 else None,
                 "Page_and_ticket" if i % 3 else "Ignore", bool(i % 3), json.dumps(raw), at],
            )  # fmt: skip
    v23.close()
    yield dsn
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture
def v23_redis():
    url = _url_with_db(settings.REDIS_URL, str(V23_REDIS_DB))
    client = redis.Redis.from_url(url, decode_responses=True)
    client.flushdb()
    yield url, client
    client.flushdb()
    client.close()


@pytest.fixture
def audit_log_empty(transactional_db):
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE event_audit_log")
    yield
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE event_audit_log")


def _queue(client) -> list[dict]:
    events, n = [], 0
    for name, count in LISTS.items():
        for _ in range(count):
            template = TEMPLATES[n % len(TEMPLATES)]
            event = {k: (v.format(n=n) if isinstance(v, str) else v) for k, v in template.items()}
            event |= {"timestamp": datetime.now(UTC).isoformat(), "correlation_id": str(uuid.uuid4())}
            # v2.3's alerter put the event under "event" in what it queued for the forwarder.
            body = {"event": event, "team": "NETO"} if name == redis_keys.V23_ALERT_QUEUE else event
            client.lpush(name, json.dumps(body))
            events.append(event)
            n += 1
    return events


def _v23_rules(dsn: str) -> list[dict]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT id, match_string, trap_oid, syslog_severity, match_type, priority, is_active"
                       " FROM alert_rules")  # fmt: skip
        cols = [c.name for c in cursor.description]
        return [dict(zip(cols, row, strict=True)) for row in cursor.fetchall()]


def _state() -> dict:
    return {
        "rules": list(AlertRule.objects.values_list("id", "priority", "match_string")),
        "hosts": DevelopmentHost.objects.count(),
        "teams": DeviceTeam.objects.count(),
        "config_audit": ConfigAuditLog.objects.count(),
        "batches": IngestBatch.objects.count(),
        "audit": EventAuditLog.objects.count(),
        "imports": LegacyImport.objects.count(),
    }


def test_v23_site_is_imported_with_the_same_winners_every_queued_event_once_and_idempotent(
    v23_database, v23_redis, audit_log_empty, workers
):
    redis_url, v23_client = v23_redis
    queued = _queue(v23_client)
    assert len(queued) == 1000
    v23_rules = _v23_rules(v23_database)
    workers.start("classify")

    call_command("import_v23", "--from", v23_database, "--redis", redis_url)

    # Configuration: every rule, host and team, each creation audited.
    assert AlertRule.objects.count() == len(v23_rules) == 4
    assert set(DevelopmentHost.objects.values_list("hostname", flat=True)) == {"dev-switch-01", "test-router-02"}
    assert dict(DeviceTeam.objects.values_list("hostname", "team_assignment")) == {
        "core-router-01": "NETCORE", "edge-firewall-01": "SECURITY", "dc-switch-01": "NETCORE"
    }  # fmt: skip
    assert ConfigAuditLog.objects.filter(changed_by="import_v23", operation="CREATE").count() == 4 + 2 + 3 + 1
    # The v2.3 lists are empty.
    assert all(v23_client.llen(name) == 0 for name in LISTS)

    # Every queued message is classified and audited exactly once ...
    cids = [e["correlation_id"] for e in queued]
    wait_for(
        lambda: EventAuditLog.objects.filter(correlation_id__in=cids).count() >= 1000,
        timeout=180,
        interval=0.5,
        message="1,000 drained events audited",
    )
    rows = {str(r.correlation_id): r for r in EventAuditLog.objects.filter(correlation_id__in=cids)}
    assert len(rows) == 1000 and EventAuditLog.objects.filter(correlation_id__in=cids).count() == 1000
    # ... by the rule v2.3's "lower number wins" gave it.
    to_v23 = {
        imp.target_id: int(imp.key.split(":")[1]) for imp in LegacyImport.objects.filter(key__startswith="alert_rules:")
    }
    for event in queued:
        got = rows[event["correlation_id"]].rule_id
        assert (to_v23.get(got) if got else None) == v23_winner(v23_rules, event), event
    winners = {v23_winner(v23_rules, e) for e in queued}
    assert len(winners) == 5  # all four rules and "no rule" were exercised

    # The v2.3 audit history came along with its rule links and raw messages.
    history = EventAuditLog.objects.filter(raw_payload__v23__isnull=False)
    assert history.count() == 30
    linked = history.exclude(rule_id=None)
    assert linked.count() == 20
    assert all(to_v23[r.rule_id] == r.raw_payload["v23"]["matched_rule_id"] for r in linked)
    assert (
        history.filter(message="Interface down Gi0/7", handling="Page_and_ticket", forward_status="sent").count() == 1
    )

    before = _state()
    call_command("import_v23", "--from", v23_database, "--redis", redis_url)
    assert _state() == before
