"""Classification end to end: 500-event IngestBatch rows to committed audit rows, one process.

Needs a running PostgreSQL and Redis (``source <data>/services.env``) and a
migrated database. Creates 100 rules (60 contains, 30 regex, 10 oid_prefix)
and, per run, inserts ``--batches`` inbox rows of 500 events, then times
``batches_classify`` in this process until they are all done. The bench's
rows (rules, batches, audit rows, outbox rows) are deleted afterwards.

Run: ``.venv/bin/python bench/classify.py [--runs N] [--batches N]``.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutt_project.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from alerts.models import AlertOutbox, AlertRule, EventAuditLog, IngestBatch  # noqa: E402
from alerts.rule_cache import ruleset_forget  # noqa: E402
from alerts.services import batches_classify  # noqa: E402
from bench.rule_engine import make_events, make_rules  # noqa: E402

BENCH_TEAM = "BENCH"


def create_rules(rng: random.Random) -> list:
    specs = make_rules(100, rng)
    AlertRule.objects.bulk_create(
        AlertRule(
            match_type=s.match_type,
            match_string=s.match_string,
            trap_oid=s.trap_oid,
            syslog_severity=s.syslog_severity,
            priority=s.priority,
            prod_handling=s.prod_handling,
            dev_handling=s.dev_handling,
            team_assignment=BENCH_TEAM,
        )
        for s in specs
    )
    ruleset_forget()
    return specs


def create_batches(specs, count: int, rng: random.Random) -> int:
    now = datetime.now(UTC)
    rows = []
    for _ in range(count):
        events = make_events(specs, 500, rng)
        for event in events:
            # A fifth of the events match a rule that pages: the outbox gets real traffic too.
            event.update(timestamp=now.isoformat(), correlation_id=str(uuid.uuid4()), source="syslog")
        rows.append(IngestBatch(events=events, event_count=len(events), received_at=now))
    IngestBatch.objects.bulk_create(rows)
    return count * 500


def cleanup(batch_ids_from: int, started: datetime) -> None:
    hosts = {f"host-{i}" for i in range(50)}  # bench.rule_engine.make_events
    EventAuditLog.objects.filter(batch_id__gte=batch_ids_from).delete()
    # Unhandled-flood meta-alerts the bench's unmatched events raised.
    meta = EventAuditLog.objects.filter(batch_id__isnull=True, hostname__in=hosts, processed_at__gte=started)
    AlertOutbox.objects.filter(correlation_id__in=list(meta.values_list("correlation_id", flat=True))).delete()
    meta.delete()
    AlertOutbox.objects.filter(payload__team=BENCH_TEAM).delete()
    IngestBatch.objects.filter(id__gte=batch_ids_from).delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batches", type=int, default=40)
    args = parser.parse_args()
    rng = random.Random(7)
    if IngestBatch.objects.exclude(status__in=["done", "dead"]).exists():
        sys.exit("unfinished inbox batches exist: run the bench against a quiet database")
    started = datetime.now(UTC)
    specs = create_rules(rng)
    first_id = (IngestBatch.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    rates = []
    try:
        for run in range(args.runs):
            events = create_batches(specs, args.batches, rng)
            connection.close()  # measure from a fresh connection, as a worker task would start
            start = time.perf_counter()
            result = batches_classify(time_slice=3600)
            elapsed = time.perf_counter() - start
            assert result.inserted == events, (result, events)
            rates.append(events / elapsed)
            print(
                f"run {run + 1}: {events} events in {elapsed:.2f} s = {rates[-1]:,.0f} events/s "
                f"({result.outboxed} outboxed)"
            )
    finally:
        cleanup(first_id, started)
        AlertRule.objects.filter(team_assignment=BENCH_TEAM).delete()
    print(
        f"classify end to end: {statistics.median(rates):,.0f} events/s median of {args.runs} "
        f"(batches of 500, {args.batches} batches per run, one process)"
    )


if __name__ == "__main__":
    main()
