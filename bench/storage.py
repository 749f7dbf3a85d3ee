"""Bytes per audit row (table + TOAST + indexes): raw_payload as the whole event vs only the extra fields.

Needs a running PostgreSQL (``source <data>/services.env``) and a migrated
database. Creates two scratch tables shaped like ``event_audit_log`` (same
columns and indexes, ``LIKE ... INCLUDING ALL``), fills each with ``--rows``
rows of one typical syslog event per row, VACUUMs them and prints
``pg_total_relation_size / rows`` for each, then drops them:

- ``before``: ``raw_payload`` holds the whole normalised event, as
  classification stored it until issue 8;
- ``after``: ``raw_payload`` holds only the fields that have no column of
  their own (``alerts.services.staging.COLUMN_FIELDS`` removed), which is
  ``{}`` for an event that sent nothing else, and ``{"facility": ...}`` for
  the ``--extra-share`` of events that carry one extra field.

Correlation ids are time-ordered (version 7) as ingest generates them; a
sender that supplies its own random ids costs ~10 bytes a row more in the
unique (correlation_id, received_at) index (pages split half full).

Run: ``.venv/bin/python bench/storage.py [--rows 1000000] [--extra-share 0.1]``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutt_project.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from alerts.services.staging import COLUMN_FIELDS  # noqa: E402

# One row per n: a typical normalised syslog event as ingest stores it in the
# inbox (ingest.parsing.normalise_event), every --extra-share-th one with a
# "facility" field the sender added.
_FILL = """
INSERT INTO {table} (received_at, event_timestamp, processed_at, hostname, message, source, syslog_severity,
                     trap_oid, rule_id, team_assignment, handling, is_dev, correlation_id, batch_id,
                     raw_payload, forward_status, forwarded_at)
SELECT e.received_at, e.ts, e.received_at, e.hostname, e.message, 'syslog', e.severity, NULL,
       NULL, 'NETO', 'Log_only', false, e.cid, e.n / 500 + 1,
       {raw}, 'none', NULL
  FROM (
    SELECT n,
           timestamptz '2026-11-01 00:00:00+00' + n * interval '1 millisecond' AS received_at,
           timestamptz '2026-11-01 00:00:00+00' + n * interval '1 millisecond' - interval '2 seconds' AS ts,
           'router-' || (n %% 500) AS hostname,
           '%%LINK-3-UPDOWN: Interface GigabitEthernet0/' || (n %% 48) || ', changed state to down' AS message,
           (n %% 8)::smallint AS severity,
           -- a time-ordered (version 7) id, as ingest makes one: the Unix milliseconds, then random bits
           (lpad(to_hex((extract(epoch FROM timestamptz '2026-11-01 00:00:00+00') * 1000)::bigint + n), 12, '0')
            || '7' || substr(md5(n::text), 1, 19))::uuid AS cid,
           CASE WHEN n %% %(every)s = 0 THEN jsonb_build_object('facility', 'local' || (n %% 8)) ELSE '{{}}'::jsonb
           END AS extra
      FROM generate_series(1, %(rows)s) AS n
  ) e
"""
# The whole event, as classification stored it before: the extra fields plus every column's field.
_RAW_BEFORE = """e.extra || jsonb_build_object(
    'timestamp', to_char(e.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00',
    'hostname', e.hostname, 'message', e.message, 'syslog_severity', e.severity, 'trap_oid', NULL,
    'source', 'syslog', 'correlation_id', e.cid::text,
    'received_at', to_char(e.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00')"""
_RAW_AFTER = "e.extra"


def measure(table: str, raw: str, rows: int, every: int) -> float:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE TABLE {table} (LIKE event_audit_log INCLUDING ALL)")
        cursor.execute(_FILL.format(table=table, raw=raw), {"rows": rows, "every": every})
        cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute(f"SELECT pg_total_relation_size('{table}'), count(*) FROM {table}")
        size, count = cursor.fetchone()
        cursor.execute(f"SELECT avg(pg_column_size(raw_payload)) FROM (SELECT raw_payload FROM {table} LIMIT 10000) s")
        payload = cursor.fetchone()[0]
        cursor.execute(f"DROP TABLE {table}")
    per_row = size / count
    print(
        f"{table}: {count} rows, {size / 2**20:.1f} MiB total, {per_row:.1f} bytes/row (raw_payload ~{payload:.0f} B)"
    )
    return per_row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--extra-share", type=float, default=0.1, help="share of events with one extra field")
    args = parser.parse_args()
    every = max(1, round(1 / args.extra_share)) if args.extra_share > 0 else args.rows + 1
    connection.ensure_connection()
    connection.connection.autocommit = True  # VACUUM cannot run inside a transaction
    assert "facility" not in COLUMN_FIELDS  # the extra field is one raw_payload keeps
    before = measure("bench_storage_before", _RAW_BEFORE, args.rows, every)
    after = measure("bench_storage_after", _RAW_AFTER, args.rows, every)
    print(f"bytes per audit row (table + indexes): before {before:.0f}, after {after:.0f} ({after / before - 1:+.0%})")


if __name__ == "__main__":
    main()
