"""Archive then drop a month of audit rows (default 1,000,000), restore it, check count and sample rows.

Needs a running PostgreSQL (``source <data>/services.env``); works in its own
database (bench/database.py). The archive goes to a temporary directory, or
to S3 with ``--s3-endpoint http://host:port --bucket name`` (credentials from
the usual AWS_* variables). Prints the seconds each step took on this
machine's clock, the archive's size, and whether count, content digest and
the sample rows came back equal.

Run: ``.venv/bin/python bench/archive.py [--rows 1000000] [--repeat 1]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.database import bench_database  # noqa: E402

os.environ["DATABASE_URL"] = bench_database("mutt_bench_archive")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutt_project.settings")
os.environ.setdefault("LOG_LEVEL", "ERROR")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from remediation.archive import content_digest  # noqa: E402
from remediation.partitions import partitions_ensure  # noqa: E402
from remediation.retention import month_restore, partitions_archive_and_drop  # noqa: E402

MONTH = date(2001, 1, 1)
PARTITION = "event_audit_log_200101"
FILL = """
INSERT INTO event_audit_log (id, received_at, event_timestamp, processed_at, hostname, message, source,
    syslog_severity, trap_oid, rule_id, team_assignment, handling, is_dev, correlation_id, raw_payload)
SELECT n, TIMESTAMPTZ '2001-01-01 00:00:00+00' + (n * INTERVAL '2678 seconds') / %(rows)s * 1000,
       TIMESTAMPTZ '2001-01-01 00:00:00+00' + (n * INTERVAL '2678 seconds') / %(rows)s * 1000,
       TIMESTAMPTZ '2001-01-01 00:00:01+00' + (n * INTERVAL '2678 seconds') / %(rows)s * 1000,
       'router-' || (n %% 500), 'Interface GigabitEthernet0/' || (n %% 48) || ' changed state to down, seq ' || n,
       'syslog', n %% 8, NULL, CASE WHEN n %% 2 = 0 THEN n %% 40 END, 'NETO', 'Log_only', false,
       md5(n::text)::uuid, '{}'::jsonb
  FROM generate_series(1, %(rows)s) AS n
"""


def sample(ids: list[int]) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT id, t::text FROM "{PARTITION}" t WHERE id = ANY(%s)', [ids])
        return dict(cursor.fetchall())


def once(rows: int) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(f'DROP TABLE IF EXISTS "{PARTITION}"')
    partitions_ensure(now=datetime(2001, 1, 1, tzinfo=UTC), months_ahead=0)
    with connection.cursor() as cursor:
        cursor.execute(FILL, {"rows": rows})
    ids = [1, 2, rows // 3, rows // 2, rows - 1, rows]
    before, digest_before = sample(ids), content_digest(PARTITION)

    start = time.perf_counter()
    run = partitions_archive_and_drop(now=datetime(2002, 1, 1, tzinfo=UTC), retention_days=90)
    archived = time.perf_counter() - start
    assert run.dropped == [PARTITION], run.kept

    start = time.perf_counter()
    month_restore(MONTH, hold_days=0)
    restored = time.perf_counter() - start
    after, digest_after = sample(ids), content_digest(PARTITION)
    return {
        "archive_and_drop_s": archived,
        "restore_s": restored,
        "archive": run.archived[0],
        "count_equal": digest_before[0] == digest_after[0] == rows,
        "digest_equal": digest_before == digest_after,
        "samples_equal": before == after and len(before) == len(ids),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--s3-endpoint", default="")
    parser.add_argument("--bucket", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mutt-bench-archive-") as tmp:
        if args.s3_endpoint:
            settings.AUDIT_ARCHIVE_URL = f"s3://{args.bucket}/bench"
            settings.AUDIT_ARCHIVE_S3_ENDPOINT_URL = args.s3_endpoint
        else:
            settings.AUDIT_ARCHIVE_URL = f"file://{tmp}"
        results = [once(args.rows) for _ in range(args.repeat)]
        if not args.s3_endpoint:
            size = sum(p.stat().st_size for p in Path(tmp).rglob("*.csv.gz"))
            print(f"archive file: {size / 1e6:.1f} MB for {args.rows} rows ({size / args.rows:.1f} bytes/row)")
    for key in ("archive_and_drop_s", "restore_s"):
        values = [r[key] for r in results]
        print(f"{key}: median {statistics.median(values):.1f} s over {len(values)} run(s) ({args.rows} rows)")
    for key in ("count_equal", "digest_equal", "samples_equal"):
        print(f"{key}: {all(r[key] for r in results)}")
    with connection.cursor() as cursor:
        cursor.execute(f'DROP TABLE IF EXISTS "{PARTITION}"')


if __name__ == "__main__":
    main()
