"""Archive before delete: a month is archived (directory or S3), verified, dropped, then restored intact.

S3 is moto's server mode (object storage sits outside the product), started
here on a free port. The million-row month is bench/archive.py; this month is
small, with awkward values (quotes, commas, newlines, NULLs, unicode JSON).
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from django.core.management import CommandError, call_command
from django.db import connection

from alerts.models import ConfigAuditLog
from remediation.archive import file_sha256
from remediation.partitions import partitions_ensure, partitions_list
from remediation.retention import config_audit_prune, partitions_archive_and_drop
from tests.conftest import free_port, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

MONTH_ROWS = 3000
NOW = datetime(2021, 9, 1, tzinfo=UTC)  # 90 days back is 2021-06-03: March is past retention
PARTITION = "event_audit_log_202103"
SAMPLE_IDS = (1, 2, 3, 1500, 2999, 3000)


@pytest.fixture
def drop_partitions():
    before = set(partitions_list())
    yield
    with connection.cursor() as cursor:
        for name in set(partitions_list()) - before:
            cursor.execute(f'DROP TABLE "{name}"')


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    """moto's S3 server on a free port (stopped after the module)."""
    port = free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"

    def up():
        try:
            return requests.get(url, timeout=1).status_code < 500
        except requests.RequestException:
            return proc.poll() is not None

    wait_for(up, timeout=60, message="moto S3 server")
    assert proc.poll() is None, "moto server exited"
    yield url
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


@pytest.fixture
def s3_env(s3_server, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-archive-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-archive-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return s3_server


def s3_bucket(endpoint: str, name: str) -> str:
    import boto3

    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return name


def fill_month(rows: int = MONTH_ROWS) -> None:
    partitions_ensure(now=datetime(2021, 3, 1, tzinfo=UTC), months_ahead=0)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO event_audit_log (id, received_at, event_timestamp, processed_at, hostname, message, source,
                syslog_severity, trap_oid, rule_id, team_assignment, handling, is_dev, correlation_id, batch_id,
                raw_payload, forward_status, forwarded_at)
            SELECT n, TIMESTAMPTZ '2021-03-01 00:00:00+00' + n * INTERVAL '13 minutes' / 20,
                   TIMESTAMPTZ '2021-03-01 00:00:00+00' + n * INTERVAL '13 minutes' / 20,
                   TIMESTAMPTZ '2021-03-01 00:00:01+00' + n * INTERVAL '13 minutes' / 20,
                   'host-' || (n %% 50),
                   CASE n %% 4 WHEN 0 THEN 'Interface Gi0/' || n || ' down, "flapping"'
                              WHEN 1 THEN E'multi\\nline, message ' || n
                              WHEN 2 THEN 'plain ' || n ELSE 'ünïcode ✓ ' || n END,
                   CASE WHEN n %% 3 = 0 THEN 'snmp' ELSE 'syslog' END,
                   CASE WHEN n %% 5 = 0 THEN NULL ELSE n %% 8 END,
                   CASE WHEN n %% 3 = 0 THEN '1.3.6.1.4.1.9.' || n ELSE NULL END,
                   CASE WHEN n %% 2 = 0 THEN n %% 7 ELSE NULL END,
                   'NETO', 'Log_only', n %% 10 = 0, md5(n::text)::uuid, NULL,
                   jsonb_build_object('n', n, 'text', 'quote " comma , ✓', 'nested', jsonb_build_array(n, NULL)),
                   'none', NULL
              FROM generate_series(1, %s) AS n
            """,
            [rows],
        )


def rows_by_id(ids) -> dict[int, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, t::text FROM event_audit_log t WHERE id = ANY(%s)", [list(ids)])
        return dict(cursor.fetchall())


def month_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM event_audit_log WHERE received_at >= '2021-03-01' AND received_at < '2021-04-01'"
        )
        return cursor.fetchone()[0]


@pytest.mark.parametrize("target", ["directory", "s3"])
def test_month_is_archived_verified_dropped_and_restored_intact(target, drop_partitions, settings, tmp_path, request):
    if target == "directory":
        settings.AUDIT_ARCHIVE_URL = f"file://{tmp_path}/archive"
    else:
        endpoint = request.getfixturevalue("s3_env")
        settings.AUDIT_ARCHIVE_URL = f"s3://{s3_bucket(endpoint, 'mutt-archive-ok')}/audit"
        settings.AUDIT_ARCHIVE_S3_ENDPOINT_URL = endpoint
    fill_month()
    samples = rows_by_id(SAMPLE_IDS)
    assert month_count() == MONTH_ROWS and len(samples) == len(SAMPLE_IDS)

    run = partitions_archive_and_drop(now=NOW, retention_days=90)

    assert run.dropped == [PARTITION] and run.kept == {}
    assert PARTITION not in partitions_list() and month_count() == 0
    assert run.archived[0].endswith("event_audit_log/2021/event_audit_log_202103.csv.gz")
    if target == "directory":
        data = tmp_path / "archive/event_audit_log/2021/event_audit_log_202103.csv.gz"
        manifest = json.loads(Path(f"{data}.manifest.json").read_text())
        assert manifest["rows"] == MONTH_ROWS and manifest["sha256"] == file_sha256(data)
        with gzip.open(data, "rt") as handle:
            assert handle.readline().startswith("id,received_at,")

    call_command("archive_restore", "--month", "2021-03")

    assert PARTITION in partitions_list()
    assert month_count() == MONTH_ROWS
    assert rows_by_id(SAMPLE_IDS) == samples
    # Held: the next retention run leaves the restored month alone.
    again = partitions_archive_and_drop(now=NOW, retention_days=90)
    assert again.dropped == [] and "held until" in again.kept[PARTITION]


def test_failed_upload_leaves_the_partition_in_place(s3_env, drop_partitions, settings):
    settings.AUDIT_ARCHIVE_URL = "s3://no-such-bucket-for-mutt/audit"  # never created: every upload fails
    settings.AUDIT_ARCHIVE_S3_ENDPOINT_URL = s3_env
    fill_month(200)

    run = partitions_archive_and_drop(now=NOW, retention_days=90)

    assert run.dropped == []
    assert run.kept[PARTITION].startswith("archive failed")
    assert PARTITION in partitions_list() and month_count() == 200
    with pytest.raises(CommandError, match="could not be archived"):
        call_command("drop_old_partitions", "--retention-days", "90", "--now", NOW.isoformat())
    assert month_count() == 200


def test_no_archive_configured_keeps_the_partition(drop_partitions, settings):
    settings.AUDIT_ARCHIVE_URL = ""
    fill_month(10)

    run = partitions_archive_and_drop(now=NOW, retention_days=90)

    assert run.dropped == [] and "AUDIT_ARCHIVE_URL" in run.kept[PARTITION]
    assert month_count() == 10


def test_a_corrupted_archive_is_refused_on_restore(drop_partitions, settings, tmp_path):
    settings.AUDIT_ARCHIVE_URL = f"file://{tmp_path}"
    fill_month(50)
    partitions_archive_and_drop(now=NOW, retention_days=90)
    data = tmp_path / "event_audit_log/2021/event_audit_log_202103.csv.gz"
    data.write_bytes(data.read_bytes()[:-8] + b"\0" * 8)

    with pytest.raises(CommandError, match="checksum"):
        call_command("archive_restore", "--month", "2021-03")
    assert month_count() == 0


def test_config_audit_rows_past_retention_are_archived_then_deleted(settings, tmp_path):
    settings.AUDIT_ARCHIVE_URL = f"file://{tmp_path}"
    now = datetime(2030, 1, 1, tzinfo=UTC)
    rows = [
        ConfigAuditLog.objects.create(changed_by="alice", operation="UPDATE", table_name="alert_rules", record_id=i)
        for i in range(5)
    ]
    for i, row in enumerate(rows):  # three a year and more old, two recent
        age = timedelta(days=400 + i) if i < 3 else timedelta(days=3)
        ConfigAuditLog.objects.filter(pk=row.pk).update(changed_at=now - age)

    run = config_audit_prune(now=now, retention_days=365)

    assert len(run.dropped) == 1 and run.kept == {}
    assert sorted(ConfigAuditLog.objects.values_list("record_id", flat=True)) == [3, 4]
    (archive,) = (tmp_path / "config_audit_log").glob("*.csv.gz")
    manifest = json.loads(Path(f"{archive}.manifest.json").read_text())
    assert manifest["rows"] == 3
    with gzip.open(archive, "rt") as handle:
        assert sum(1 for _ in handle) == 4  # header + three rows
    assert config_audit_prune(now=now, retention_days=0).dropped == []  # 0 keeps forever


def _retention_diagnostics(workers) -> str:
    from django.conf import settings

    from mutt_project.redis_client import get_redis

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, state, wait_event_type, wait_event, left(query, 120) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        activity = cursor.fetchall()
    r = get_redis()
    logs = [Path(p.logfile.name).read_text()[-3000:] for p in workers.procs]
    return (
        f"broker={settings.CELERY_BROKER_URL} redis keys={sorted(r.keys('*'))[:40]} "
        f"partitions={partitions_list()} activity={activity} worker logs={logs}"
    )


def test_the_daily_retention_task_archives_and_drops_in_a_real_worker(workers, drop_partitions, tmp_path):
    from remediation.tasks import enforce_retention

    fill_month(100)  # March 2021: long past the 90 days
    workers.start("maintenance", env={"AUDIT_ARCHIVE_URL": f"file://{tmp_path}", "EVENT_RETENTION_DAYS": "90"})

    enforce_retention.delay()

    try:
        wait_for(lambda: PARTITION not in partitions_list(), timeout=120, interval=0.5, message="partition dropped")
    except pytest.fail.Exception as exc:
        pytest.fail(f"{exc}: {_retention_diagnostics(workers)}")
    manifest = json.loads((tmp_path / "event_audit_log/2021/event_audit_log_202103.csv.gz.manifest.json").read_text())
    assert manifest["rows"] == 100
