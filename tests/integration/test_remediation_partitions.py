"""Partition maintenance: months ahead are created, DEFAULT rows move home, expired months go."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import connection

from alerts.models import EventAuditLog
from remediation.partitions import partitions_detach_old, partitions_ensure, partitions_list

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def partition_of(audit_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM event_audit_log WHERE id = %s", [audit_id])
        return cursor.fetchone()[0]


def audit_row(received_at: datetime) -> EventAuditLog:
    return EventAuditLog.objects.create(
        received_at=received_at,
        event_timestamp=received_at,
        processed_at=received_at,
        hostname="h",
        message="m",
        source="syslog",
        handling="Log_only",
        correlation_id=uuid.uuid4(),
        raw_payload={},
    )


@pytest.fixture
def drop_partitions():
    """Partitions are schema, not rows: the ones a test creates are dropped after it."""
    before = set(partitions_list())
    yield
    with connection.cursor() as cursor:
        for name in set(partitions_list()) - before:
            cursor.execute(f'DROP TABLE "{name}"')


def test_end_of_month_creates_missing_months_and_moves_default_rows(drop_partitions):
    stray = audit_row(datetime(2031, 2, 14, 12, tzinfo=UTC))  # no partition yet: lands in DEFAULT
    assert partition_of(stray.id) == "event_audit_log_default"

    created = partitions_ensure(now=datetime(2031, 1, 31, 23, 59, 59, tzinfo=UTC))

    assert created == [
        "event_audit_log_203101",
        "event_audit_log_203102",
        "event_audit_log_203103",
        "event_audit_log_203104",
    ]
    assert partition_of(stray.id) == "event_audit_log_203102"
    assert partitions_ensure(now=datetime(2031, 1, 31, 23, 59, 59, tzinfo=UTC)) == []  # idempotent


def test_drop_old_partitions_dry_run_changes_nothing_and_real_run_drops_exactly_the_expired(
    drop_partitions, capsys, settings, tmp_path
):
    settings.AUDIT_ARCHIVE_URL = f"file://{tmp_path}"  # dropped months are archived first (test_audit_archive.py)
    for month in (1, 2, 3):
        partitions_ensure(now=datetime(2020, month, 1, tzinfo=UTC), months_ahead=0)
    kept = audit_row(datetime(2020, 3, 20, tzinfo=UTC))
    before = partitions_list()
    # 90 days before 2020-06-15 is 2020-03-17: January and February are entirely older, March is not.
    args = ["--retention-days", "90", "--now", "2020-06-15T00:00:00+00:00"]

    call_command("drop_old_partitions", *args, "--dry-run")

    assert "would drop: event_audit_log_202001, event_audit_log_202002" in capsys.readouterr().out
    assert partitions_list() == before
    call_command("drop_old_partitions", *args)
    assert set(before) - set(partitions_list()) == {"event_audit_log_202001", "event_audit_log_202002"}
    assert partition_of(kept.id) == "event_audit_log_202003"


def test_archive_detaches_and_keeps_the_table(drop_partitions):
    partitions_ensure(now=datetime(2019, 5, 1, tzinfo=UTC), months_ahead=0)

    detached = partitions_detach_old(now=datetime(2020, 1, 1, tzinfo=UTC), retention_days=90)

    assert "event_audit_log_201905" in detached
    assert "event_audit_log_201905" not in partitions_list()
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('event_audit_log_201905') IS NOT NULL")
        assert cursor.fetchone()[0]
        cursor.execute('DROP TABLE "event_audit_log_201905"')
