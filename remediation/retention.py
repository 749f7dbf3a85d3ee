"""Retention with archive: old audit rows are archived, verified, and only then deleted.

- ``event_audit_log``: a monthly partition entirely older than
  EVENT_RETENTION_DAYS is written to ``event_audit_log/YYYY/event_audit_log_YYYYMM.csv.gz``
  (remediation.archive), verified, then dropped. Anything failing (store
  unreachable, checksum or count mismatch) leaves the partition in place and
  is reported; the next daily run tries again.
- ``config_audit_log``: rows older than AUDIT_RETENTION_DAYS (0 = keep
  forever) are archived the same way, then deleted.
- ``month_restore``: an archived month back as an attached, queryable
  partition, held for AUDIT_RESTORE_HOLD_DAYS before retention may drop it again.

The store is AUDIT_ARCHIVE_URL. Empty: nothing past retention is deleted (a
warning says so). ``none``: delete without an archive (an explicit choice).
"""

from __future__ import annotations

import logging
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from remediation.archive import (
    ArchiveVerifyError,
    Manifest,
    archive_load,
    archive_verify,
    archive_write,
    content_digest,
    manifest_read,
    table_columns,
)
from remediation.archive_store import ArchiveStore, ArchiveStoreError, store_from_url
from remediation.partitions import partitions_expired

log = logging.getLogger(__name__)

NO_ARCHIVE = "none"
_HOLD = re.compile(r"^mutt-restored-until:(\d{4}-\d{2}-\d{2})$")
_FAILURES = (ArchiveStoreError, ArchiveVerifyError, DatabaseError, OSError)


@dataclass
class RetentionRun:
    dropped: list[str] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)  # name -> why it was kept
    archived: list[str] = field(default_factory=list)  # archive keys written

    def as_dict(self) -> dict:
        return {"dropped": self.dropped, "kept": self.kept, "archived": self.archived}


def archive_store() -> ArchiveStore | None:
    """The configured store; None when AUDIT_ARCHIVE_URL is empty or ``none``."""
    url = settings.AUDIT_ARCHIVE_URL
    if not url or url == NO_ARCHIVE:
        return None
    return store_from_url(
        url, endpoint_url=settings.AUDIT_ARCHIVE_S3_ENDPOINT_URL, region=settings.AUDIT_ARCHIVE_S3_REGION
    )


def partition_key(name: str) -> str:
    return f"event_audit_log/{name[-6:-2]}/{name}.csv.gz"


def month_partition(month: date) -> str:
    return f"event_audit_log_{month:%Y%m}"


def _held_until(name: str) -> date | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT obj_description(%s::regclass, 'pg_class')", [name])
        comment = cursor.fetchone()[0] or ""
    match = _HOLD.match(comment)
    return date.fromisoformat(match.group(1)) if match else None


def _archive_partition(store: ArchiveStore, name: str) -> Manifest:
    """Archive one partition (rows locked against writes by the caller) unless a matching archive exists."""
    rows, digest = content_digest(name)
    key = partition_key(name)
    existing = manifest_read(store, key)
    if existing is not None and existing.rows == rows and existing.content_md5 == digest:
        with tempfile.TemporaryDirectory(prefix="mutt-archive-") as tmp:
            archive_verify(store, existing, Path(tmp) / "check.csv.gz")
        return existing
    columns = table_columns(name)
    return archive_write(
        store,
        table="event_audit_log",
        key=key,
        columns=columns,
        select_sql=f'SELECT * FROM "{name}" ORDER BY id, received_at',  # nosec B608  # name is a partition name read from the catalog, quoted; no caller value
        expected_rows=rows,
        content_md5=digest,
        extra={"partition": name},
    )


def partitions_archive_and_drop(
    *, now: datetime | None = None, retention_days: int | None = None, dry_run: bool = False
) -> RetentionRun:
    """Archive then drop every partition past retention; a failure keeps that partition."""
    now = now or timezone.now()
    run = RetentionRun()
    expired = partitions_expired(now=now, retention_days=retention_days)
    url = settings.AUDIT_ARCHIVE_URL
    for name in expired:
        held = _held_until(name)
        if held and held > now.date():
            run.kept[name] = f"restored, held until {held}"
            continue
        if dry_run:
            run.dropped.append(name)
            continue
        if not url:
            run.kept[name] = "no AUDIT_ARCHIVE_URL: kept (set it, or 'none' to delete without an archive)"
            log.warning("partition %s is past retention but kept: AUDIT_ARCHIVE_URL is not set", name)
            continue
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    # Reads go on; a late write into this month waits, so the archive holds every row
                    # dropped; a second run (self-conflicting mode) waits for this one.
                    cursor.execute(f'LOCK TABLE "{name}" IN SHARE ROW EXCLUSIVE MODE')
                    cursor.execute("SET LOCAL statement_timeout = 0")  # bounded by the task's time limit
                store = archive_store()
                if store is not None:
                    manifest = _archive_partition(store, name)
                    run.archived.append(store.describe(manifest.key))
                with connection.cursor() as cursor:
                    cursor.execute(f'DROP TABLE "{name}"')
        except _FAILURES as exc:
            run.kept[name] = f"archive failed: {exc}"
            log.error("partition %s kept: archive failed: %s", name, exc)
            continue
        run.dropped.append(name)
        log.warning("partition %s archived and dropped (retention)", name)
    return run


def config_audit_prune(*, now: datetime | None = None, retention_days: int | None = None) -> RetentionRun:
    """Archive then delete config_audit_log rows older than AUDIT_RETENTION_DAYS (0 = keep forever)."""
    days = settings.AUDIT_RETENTION_DAYS if retention_days is None else retention_days
    run = RetentionRun()
    if days <= 0:
        return run
    cutoff = (now or timezone.now()) - timedelta(days=days)
    url = settings.AUDIT_ARCHIVE_URL
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id), count(*) FROM config_audit_log WHERE changed_at < %s", [cutoff])
        first, last, count = cursor.fetchone()
    if not count:
        return run
    label = f"config_audit_log ids {first}-{last}"
    if not url:
        run.kept[label] = "no AUDIT_ARCHIVE_URL: kept"
        log.warning("%s config audit rows are past retention but kept: AUDIT_ARCHIVE_URL is not set", count)
        return run
    where, params = "WHERE id BETWEEN %s AND %s AND changed_at < %s", [first, last, cutoff]
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("LOCK TABLE config_audit_log IN SHARE ROW EXCLUSIVE MODE")
                cursor.execute("SET LOCAL statement_timeout = 0")
            rows, digest = content_digest("config_audit_log", where, params)
            store = archive_store()
            if store is not None:
                manifest = archive_write(
                    store,
                    table="config_audit_log",
                    key=f"config_audit_log/config_audit_log_{first:012d}-{last:012d}.csv.gz",
                    columns=table_columns("config_audit_log"),
                    select_sql=f"SELECT * FROM config_audit_log {where} ORDER BY id",  # nosec B608  # where is one of two fixed clauses; its values go as %s params
                    params=params,
                    expected_rows=rows,
                    content_md5=digest,
                    extra={"before": cutoff.isoformat()},
                )
                run.archived.append(store.describe(manifest.key))
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM config_audit_log {where}", params)  # nosec B608  # where is one of two fixed clauses; its values go as %s params
                if cursor.rowcount != rows:
                    raise ArchiveVerifyError(f"deleted {cursor.rowcount} rows, archived {rows}")
    except _FAILURES as exc:
        run.kept[label] = f"archive failed: {exc}"
        log.error("%s kept: archive failed: %s", label, exc)
        return run
    run.dropped.append(label)
    log.warning("%s: %s rows archived and deleted (retention)", label, rows)
    return run


class RestoreError(Exception):
    pass


def month_restore(month: date, *, hold_days: int | None = None) -> Manifest:
    """Load an archived month into its partition (created and attached), verified by count and content."""
    store = archive_store()
    if store is None:
        raise RestoreError("AUDIT_ARCHIVE_URL names no archive")
    name = month_partition(month)
    manifest = manifest_read(store, partition_key(name))
    if manifest is None:
        raise RestoreError(f"no archive of {month:%Y-%m} at {store.describe(partition_key(name))}")
    hold = settings.AUDIT_RESTORE_HOLD_DAYS if hold_days is None else hold_days
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT create_monthly_partition(%s)", [month])
            cursor.execute(f'SELECT count(*) FROM "{name}"')  # nosec B608  # name is built from a validated YYYY-MM month (partition_name), quoted
            present = cursor.fetchone()[0]
        if present:
            raise RestoreError(f"{name} already holds {present} rows: nothing restored")
        archive_load(store, manifest, name)
        rows, digest = content_digest(name)
        if rows != manifest.rows or digest != manifest.content_md5:
            raise ArchiveVerifyError(
                f"{name} after restore: {rows} rows / digest {digest}, archive says {manifest.rows} / {manifest.content_md5}"
            )
        until = timezone.now().date() + timedelta(days=hold)
        with connection.cursor() as cursor:
            cursor.execute(f"COMMENT ON TABLE \"{name}\" IS 'mutt-restored-until:{until.isoformat()}'")
    log.warning("restored %s rows of %s from %s (held until %s)", rows, name, store.describe(manifest.key), until)
    return manifest
