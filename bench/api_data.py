"""Bench data for bench/api.py: a database with millions of event_audit_log rows, loaded with COPY.

    .venv/bin/python bench/api_data.py --rows 10000000 --days 30 --rules 10000

Needs ``DATABASE_URL`` of a running PostgreSQL (``source .run/data/services.env``);
creates (or reuses) the database named by ``--database`` next to it, migrates it,
creates the monthly partitions the window needs (as maintenance keeps them), and
COPYs rows spread evenly over the last ``--days`` days in time order, as the
classifiers write them. ``--rules`` rules are bulk-inserted for the rules-list bench.
Idempotent: a database that already holds the rows is left alone.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.database import bench_database  # noqa: E402

HOSTS = 5000
HANDLINGS = ["Page_and_ticket", "Page_only", "Ticket_only", "Email_only", "Log_only", "Suppress"]
TEAMS = ["NETO", "SRE", "DBA", "WINOPS", "UNIX"]
COLUMNS = (
    "received_at, event_timestamp, processed_at, hostname, message, source, syslog_severity, trap_oid, "
    "rule_id, team_assignment, handling, is_dev, correlation_id, batch_id, raw_payload, forward_status, forwarded_at"
)


def bench_url(database: str) -> str:
    url = urlparse(os.environ["DATABASE_URL"])
    return urlunparse(url._replace(path="/" + database))


def connect(url: str):
    u = urlparse(url)
    return psycopg2.connect(
        host=u.hostname, port=u.port, user=u.username, password=u.password, dbname=u.path.lstrip("/")
    )


def ensure_database(database: str) -> str:
    """The bench's own database (created and migrated once); its URL."""
    return bench_database(database)


def host_name(i: int) -> str:
    return f"host-{i:04d}.example.net"


def rows_chunk(rng: random.Random, start: datetime, step: float, first: int, count: int) -> io.StringIO:
    out = io.StringIO()
    w = out.write
    for i in range(first, first + count):
        received = start + timedelta(seconds=i * step)
        ts = received.isoformat()
        host = host_name(rng.randrange(HOSTS))
        rule = rng.randrange(1, 10001)
        handling = HANDLINGS[rule % 6]
        forwarded = handling in ("Page_and_ticket", "Page_only", "Ticket_only")
        w(
            f"{ts}\t{ts}\t{ts}\t{host}\t%LINK-3-UPDOWN: Interface Gi0/{i % 48} changed state to down seq {i}\t"
            f"syslog\t{rng.randrange(8)}\t\\N\t{rule}\t{TEAMS[rule % 5]}\t{handling}\t"
            f"{'t' if rule % 10 == 0 else 'f'}\t{uuid.UUID(int=rng.getrandbits(128), version=4)}\t\\N\t"
            f"{{}}\t{'sent' if forwarded else 'none'}\t{ts if forwarded else chr(92) + 'N'}\n"
        )
    out.seek(0)
    return out


def load_events(url: str, rows: int, days: int) -> None:
    conn = connect(url)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM (SELECT 1 FROM event_audit_log LIMIT %s) t", [rows])
        if cur.fetchone()[0] >= rows:
            print(f"event_audit_log already holds {rows:,} rows: left alone")
            return
        cur.execute("TRUNCATE event_audit_log")
        now = datetime.now(UTC).replace(microsecond=0)
        start = now - timedelta(days=days)
        month = start.date().replace(day=1)
        while month <= now.date():  # the partitions maintenance would have made for the window
            cur.execute("SELECT create_monthly_partition(%s)", [month])
            month = (month + timedelta(days=32)).replace(day=1)
    rng = random.Random(11)
    step = days * 86400 / rows
    chunk = 200_000
    t0 = time.perf_counter()
    for first in range(0, rows, chunk):
        with conn, conn.cursor() as cur:
            cur.copy_expert(
                f"COPY event_audit_log ({COLUMNS}) FROM STDIN",
                rows_chunk(rng, start, step, first, min(chunk, rows - first)),
            )
        done = first + chunk
        if done % 1_000_000 == 0:
            print(f"  {done:,} rows in {time.perf_counter() - t0:.0f} s", flush=True)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE event_audit_log")
    conn.close()
    print(f"loaded {rows:,} rows over {days} days with COPY in {time.perf_counter() - t0:.0f} s")


def load_rules(url: str, count: int) -> None:
    conn = connect(url)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM alert_rules")
        have = cur.fetchone()[0]
        if have >= count:
            return
        buf = io.StringIO()
        for i in range(have, count):
            handling = HANDLINGS[i % 6]
            buf.write(
                f"bench pattern {i}\t\\N\t\\N\tcontains\t{1 + i % 1000}\t{handling}\tLog_only\t{TEAMS[i % 5]}\t\t"
                f"{'t' if i % 7 else 'f'}\t{datetime.now(UTC).isoformat()}\t{datetime.now(UTC).isoformat()}\tbench\n"
            )
        buf.seek(0)
        cur.copy_expert(
            "COPY alert_rules (match_string, trap_oid, syslog_severity, match_type, priority, prod_handling, "
            "dev_handling, team_assignment, description, is_active, created_at, updated_at, created_by) FROM STDIN",
            buf,
        )
        cur.execute("ANALYZE alert_rules")
    conn.close()
    print(f"alert_rules holds {count:,} rules")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="mutt_bench_api")
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--rules", type=int, default=10_000)
    args = parser.parse_args()
    url = ensure_database(args.database)
    load_events(url, args.rows, args.days)
    load_rules(url, args.rules)


if __name__ == "__main__":
    main()
