"""The dashboard and status API over a large audit trail: response times with N audit rows.

Needs a running PostgreSQL and Redis (``source <data>/services.env``). Uses its
own database (``<name>_bench_dashboard``, created and migrated on first use).
Fills ``event_audit_log`` up to ``--rows`` rows (default 10 million) spread
over the last 30 days with COPY (monthly partitions created first), plus a
small live backlog, outbox and dead letters; then times, in this process
through Django's test client (the whole view, template and queries, no
network), each page with the 5-s status cache bypassed so every request
really reads PostgreSQL and Redis:

- ``GET /`` (the dashboard), ``GET /dashboard/panels`` (the 5-s refresh),
- ``GET /api/v2/metrics``, ``GET /api/v1/slo`` (24 h window).

Prints median and p95 per page, and the plan of the one audit-trail query
(the SLO's latency share) to show partition pruning and the row cap.

Run: ``.venv/bin/python bench/dashboard.py [--rows 10000000] [--requests 30]``.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.database import bench_database  # noqa: E402

_COLUMNS = (
    "received_at, event_timestamp, processed_at, hostname, message, source, syslog_severity, trap_oid, "
    "rule_id, team_assignment, handling, is_dev, correlation_id, batch_id, raw_payload, forward_status, forwarded_at"
)
_CHUNK = 500_000
NULL = "\\N"  # COPY text format


def _rows(start: datetime, span: float, first: int, count: int, total: int) -> io.StringIO:
    out = io.StringIO()
    write = out.write
    for i in range(first, first + count):
        received = start + timedelta(seconds=span * i / total)
        r = received.isoformat()
        p = (received + timedelta(seconds=(i % 7) * 0.3)).isoformat()
        matched = i % 5 != 0
        forwarded = matched and i % 3 == 0
        write(
            f"{r}\t{r}\t{p}\thost-{i % 5000:04d}.example.net\tInterface Gi0/{i % 48} changed state to down ({i})\t"
            f"syslog\t{i % 8}\t{NULL}\t{(i % 200) + 1 if matched else NULL}\tNETO\t"
            f"{'Page_and_ticket' if forwarded else 'Log_only'}\tf\t{uuid.uuid4()}\t{NULL}\t{{}}\t"
            f"{'sent' if forwarded else 'none'}\t{p if forwarded else NULL}\n"
        )
    out.seek(0)
    return out


def fill_audit(rows: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        now = datetime.now(UTC)
        first_month = date(now.year, now.month, 1) - timedelta(days=32)
        for month in (date(first_month.year, first_month.month, 1), date(now.year, now.month, 1)):
            cursor.execute("SELECT create_monthly_partition(%s)", [month])
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'event_audit_log_default'")
        cursor.execute(
            "SELECT coalesce(sum(c.reltuples), 0)::bigint FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'event_audit_log'::regclass"
        )
        have = max(0, cursor.fetchone()[0])
    if have >= rows * 0.98:
        print(f"event_audit_log already holds about {have:,} rows")
        return
    print(f"filling event_audit_log with {rows:,} rows over 30 days (COPY, {_CHUNK:,} per statement)...", flush=True)
    start = datetime.now(UTC) - timedelta(days=30)
    span = 30 * 86400.0
    started = time.perf_counter()
    raw = connection.connection
    for first in range(0, rows, _CHUNK):
        data = _rows(start, span, first, min(_CHUNK, rows - first), rows)
        with raw.cursor() as cursor:
            cursor.copy_expert(f"COPY event_audit_log ({_COLUMNS}) FROM STDIN", data)
        raw.commit()
        print(f"  {first + _CHUNK:,} rows, {time.perf_counter() - started:.0f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE event_audit_log")


def live_state() -> None:
    """A little of everything the dashboard shows besides the audit trail."""
    from django.utils import timezone

    from alerts.models import AlertOutbox, DeadLetter, IngestBatch

    now = timezone.now()
    IngestBatch.objects.filter(status="pending").delete()
    IngestBatch.objects.bulk_create(
        [IngestBatch(events=[{"m": i}] * 10, event_count=10, received_at=now - timedelta(seconds=i)) for i in range(50)]
    )
    AlertOutbox.objects.all().delete()
    AlertOutbox.objects.bulk_create(
        [AlertOutbox(correlation_id=uuid.uuid4(), payload={}, next_attempt_at=now, last_error="") for _ in range(200)]
    )
    if DeadLetter.objects.count() < 100:
        DeadLetter.objects.bulk_create(
            [DeadLetter(stage="forward", status="pending", payload={}, last_error="HTTP 503") for _ in range(100)]
        )


def timed(client, path: str, n: int) -> list[float]:
    from mutt_project import redis_keys
    from mutt_project.redis_client import get_redis

    times = []
    for _ in range(n):
        get_redis().delete(redis_keys.STATUS_CACHE)  # measure the real reads, not the cache
        started = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (path, answer.status_code)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()

    db_url = bench_database(urlparse(os.environ["DATABASE_URL"]).path.strip("/") + "_bench_dashboard")
    os.environ["DATABASE_URL"] = db_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutt_project.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    settings.ALLOWED_HOSTS = ["*"]
    fill_audit(args.rows)
    live_state()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM event_audit_log")  # once, for the report (the pages never do this)
        total = cursor.fetchone()[0]
    user = get_user_model().objects.filter(username="bench").first() or get_user_model().objects.create_superuser(
        "bench", "bench@example.net", "bench-only"
    )
    client = Client()
    client.force_login(user)
    print(f"\nevent_audit_log: {total:,} rows; {args.requests} requests per page, status cache bypassed")
    print(f"{'page':<22}{'median ms':>10}{'p95 ms':>10}")
    for path in ("/", "/dashboard/panels", "/api/v2/metrics", "/api/v1/slo"):
        timed(client, path, 3)  # warm up
        times = sorted(timed(client, path, args.requests))
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        print(f"{path:<22}{statistics.median(times):>10.1f}{p95:>10.1f}")

    from remediation.status import _LATENCY_SAMPLE, _LATENCY_SQL

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) " + _LATENCY_SQL, [5.0, 24, _LATENCY_SAMPLE])
        print("\nSLO latency query plan:\n" + "\n".join(r[0] for r in cursor.fetchall()))


if __name__ == "__main__":
    main()
