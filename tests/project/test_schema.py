"""The schema protects itself: rule constraints in PostgreSQL, audit-log partitions."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from alerts.models import AlertRule

pytestmark = pytest.mark.django_db

BASE = {"match_type": "contains", "prod_handling": "Page_only", "dev_handling": "Log_only"}


@pytest.mark.parametrize(
    "bad",
    [
        {"match_string": None},  # no criterion at all
        {"match_string": "x", "priority": 0},
        {"match_string": "x", "priority": 1001},
        {"match_string": "x", "match_type": "glob"},
        {"match_string": "x", "prod_handling": "Shout"},
        {"match_string": "x", "syslog_severity": 8},
    ],
)
def test_database_refuses_an_invalid_rule_even_without_validation(bad):
    with pytest.raises(IntegrityError), transaction.atomic():
        AlertRule.objects.create(**(BASE | bad))


def test_audit_log_has_this_month_three_ahead_and_a_default_partition():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'event_audit_log'::regclass"
        )
        partitions = {row[0] for row in cursor.fetchall()}
    now = timezone.now()
    expected = set()
    year, month = now.year, now.month
    for _ in range(4):
        expected.add(f"event_audit_log_{year}{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    assert expected | {"event_audit_log_default"} <= partitions


def test_a_redelivered_event_is_stored_once():
    sql = (
        "INSERT INTO event_audit_log (received_at, event_timestamp, hostname, message, handling, correlation_id, "
        "raw_payload) VALUES (%s, %s, 'h', 'm', 'Log_only', '7b0d2a47-5c1f-4c55-9a57-7a4a3d0c7f11', '{}') "
        "ON CONFLICT (correlation_id, received_at) DO NOTHING"
    )
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, now])
        cursor.execute(sql, [now, now])
        cursor.execute("SELECT count(*) FROM event_audit_log")
        assert cursor.fetchone()[0] == 1
