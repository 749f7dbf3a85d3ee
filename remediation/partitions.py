"""Maintenance of PostgreSQL storage: monthly audit-log partitions, retention, inbox pruning (Beat)."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from alerts.choices import BatchStatus
from alerts.models import IngestBatch

log = logging.getLogger(__name__)

_PARTITION_PREFIX = "event_audit_log_"


def _month_add(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def partitions_list() -> list[str]:
    """Monthly partitions attached to event_audit_log (the DEFAULT partition excluded)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'event_audit_log'::regclass AND c.relname ~ '^event_audit_log_[0-9]{6}$'
             ORDER BY c.relname
            """
        )
        return [r[0] for r in cursor.fetchall()]


def partitions_ensure(*, now: datetime | None = None, months_ahead: int | None = None) -> list[str]:
    """Create the current month's partition and ``months_ahead`` more; return the names created.

    ``create_monthly_partition`` (migration 0002) is idempotent and moves rows
    of that month out of the DEFAULT partition into the new one.
    """
    now = now or timezone.now()
    ahead = settings.PARTITION_MONTHS_AHEAD if months_ahead is None else months_ahead
    first = date(now.year, now.month, 1)
    existing = set(partitions_list())
    created = []
    with connection.cursor() as cursor:
        for n in range(ahead + 1):
            month = _month_add(first, n)
            cursor.execute("SELECT create_monthly_partition(%s)", [month])
            name = cursor.fetchone()[0]
            if name not in existing:
                created.append(name)
    if created:
        log.info("partitions created: %s", ", ".join(created))
    return created


def partitions_expired(*, now: datetime | None = None, retention_days: int | None = None) -> list[str]:
    """Monthly partitions whose every row is older than the retention period."""
    now = now or timezone.now()
    days = settings.EVENT_RETENTION_DAYS if retention_days is None else retention_days
    cutoff = (now - timedelta(days=days)).date()
    expired = []
    for name in partitions_list():
        suffix = name.removeprefix(_PARTITION_PREFIX)
        month_end = _month_add(date(int(suffix[:4]), int(suffix[4:]), 1), 1)
        if month_end <= cutoff:
            expired.append(name)
    return expired


def partitions_detach_old(*, now: datetime | None = None, retention_days: int | None = None) -> list[str]:
    """Detach the expired partitions (each table stays, outside event_audit_log); return their names.

    Dropping goes through ``remediation.retention`` (archive, verify, then drop).
    """
    expired = partitions_expired(now=now, retention_days=retention_days)
    with connection.cursor() as cursor:
        for name in expired:
            cursor.execute(f'ALTER TABLE event_audit_log DETACH PARTITION "{name}"')
            log.warning("partition %s detached (retention)", name)
    return expired


def batches_prune(*, now: datetime | None = None) -> int:
    """Delete done inbox batches older than BATCH_RETENTION_HOURS (their events are in the audit log)."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.BATCH_RETENTION_HOURS)
    deleted, _ = IngestBatch.objects.filter(status=BatchStatus.DONE, processed_at__lt=cutoff).delete()
    return deleted
