"""Outbox rows straight into PostgreSQL (what classification would have written)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from django.utils import timezone

from alerts.models import AlertOutbox, EventAuditLog
from forwarding.payload import Alert


def alert_payload(**overrides) -> Alert:
    alert: Alert = {
        "correlation_id": str(uuid.uuid4()),
        "hostname": "router-01",
        "message": "Interface Gi0/1 changed state to down",
        "syslog_severity": 2,
        "trap_oid": None,
        "source": "syslog",
        "timestamp": datetime(2026, 1, 1, tzinfo=UTC).isoformat(),
        "received_at": datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC).isoformat(),
        "rule_id": 7,
        "handling": "Page_and_ticket",
        "team": "NETO",
        "is_dev": False,
    }
    return alert | overrides  # type: ignore[return-value]


def outbox_rows(count: int, **overrides) -> list[AlertOutbox]:
    """``count`` due outbox rows, inserted in one statement."""
    now = timezone.now()
    rows = []
    for _ in range(count):
        payload = alert_payload(**overrides)
        rows.append(AlertOutbox(correlation_id=payload["correlation_id"], payload=payload, next_attempt_at=now))
    return AlertOutbox.objects.bulk_create(rows)


def audited_outbox_row(**overrides) -> tuple[EventAuditLog, AlertOutbox]:
    """An audit row with ``forward_status=pending`` and its outbox row, as classification leaves them."""
    payload = alert_payload(**overrides)
    now = timezone.now()
    audit = EventAuditLog.objects.create(
        received_at=now,
        event_timestamp=now,
        processed_at=now,
        hostname=payload["hostname"],
        message=payload["message"],
        source="syslog",
        syslog_severity=payload["syslog_severity"],
        rule_id=payload["rule_id"],
        team_assignment=payload["team"],
        handling=payload["handling"],
        correlation_id=payload["correlation_id"],
        raw_payload=payload,
        forward_status="pending",
    )
    row = AlertOutbox.objects.create(
        correlation_id=payload["correlation_id"],
        audit_id=audit.id,
        audit_received_at=now,
        payload=payload,
        next_attempt_at=now,
    )
    return audit, row


def outbox_seed(count: int, handling: str = "Ticket_only", waited: float = 0.0) -> None:
    """``count`` due outbox rows of one handling in ONE ``INSERT … SELECT`` (storm-sized backlogs).

    ``waited`` seconds back-dates ``created_at`` (for the staleness policy); rows
    are due oldest first in insertion order.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO alert_outbox (correlation_id, payload, attempts, next_attempt_at, last_error, created_at)
            SELECT s.cid, jsonb_build_object(
                       'correlation_id', s.cid::text, 'hostname', 'switch-' || (s.g %% 500),
                       'message', 'Port ' || s.g || ' flapping', 'syslog_severity', 4, 'trap_oid', NULL,
                       'source', 'syslog', 'timestamp', '2026-01-01T00:00:00+00:00', 'rule_id', 9,
                       'handling', %(handling)s::text, 'team', 'NETO', 'is_dev', false),
                   0, now() - make_interval(secs => %(waited)s) + s.g * interval '1 microsecond', '',
                   now() - make_interval(secs => %(waited)s)
              FROM (SELECT gen_random_uuid() AS cid, g FROM generate_series(1, %(count)s) AS g) s
            """,
            {"count": count, "handling": handling, "waited": waited},
        )
