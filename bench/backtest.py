"""Backtest throughput: one draft rule over 1,000,000 stored events, with /health probed meanwhile.

Needs a running PostgreSQL and Redis (``source <data>/services.env``) and a
migrated database. Seeds (once; ``--keep`` leaves them for the next run)
1,000,000 ``event_audit_log`` rows with one COPY, spread over the last six
days, and the 7 sample rules of ``alerts.sample_data`` plus 107 generated ones
(60 % contains, 30 % regex, 10 % oid_prefix: ``bench.rule_engine``). Then it
starts the web (gunicorn) and ingest (granian) processes on 127.0.0.1:8176/8177
as ``make run`` does, probes their ``/health`` every 50 ms, and runs
``backtest_scan`` (what the maintenance task runs) ``--runs`` times.

Prints the median events/s, where the time goes (count, reading rows,
pre-filter + deciding twice + diffing; and what deciding every event twice
would cost without the pre-filter), and the /health latencies seen during the
scans. The scan runs in this process (the same function the maintenance task calls).

Run: ``.venv/bin/python bench/backtest.py [--runs 3] [--events 1000000] [--keep]``.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutt_project.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from alerts.models import AlertRule  # noqa: E402
from alerts.rule_cache import ruleset_forget  # noqa: E402
from alerts.sample_data import SAMPLE_RULES  # noqa: E402
from alerts.services.rule_backtest import _fresh_ruleset, backtest_scan  # noqa: E402
from alerts.services.rule_lab import ruleset_with_drafts  # noqa: E402
from bench.rule_engine import make_events, make_rules  # noqa: E402

BENCH_BATCH_ID = -1010  # marks the bench's audit rows (classification never writes a negative batch id)
BENCH_TEAM = "BENCHLAB"
WEB_PORT, INGEST_PORT = 8176, 8177
DRAFT = {
    "match_string": "neighbor down",
    "match_type": "contains",
    "priority": 950,
    "prod_handling": "Page_only",
    "dev_handling": "Log_only",
    "team_assignment": "ROUTING",
}


def seed_rules(rng: random.Random) -> None:
    if AlertRule.objects.filter(team_assignment=BENCH_TEAM).exists():
        return
    rows = [AlertRule(**(spec | {"team_assignment": BENCH_TEAM})) for spec in SAMPLE_RULES]
    for s in make_rules(107, rng):
        rows.append(
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
        )
    AlertRule.objects.bulk_create(rows)
    ruleset_forget()


def seed_events(count: int, rng: random.Random) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM event_audit_log WHERE batch_id = %s", [BENCH_BATCH_ID])
        have = cursor.fetchone()[0]
    if have >= count:
        return have
    ruleset = _fresh_ruleset()
    distinct = make_events(ruleset.rules, 20_000, rng)
    now = datetime.now(UTC)
    started = time.perf_counter()
    buffer = io.StringIO()
    for i in range(count - have):
        event = distinct[i % len(distinct)]
        decision = ruleset.decide(event)
        received = (now - timedelta(seconds=(i * 518_400 / count) + 60)).isoformat()
        buffer.write(
            "\t".join(
                (
                    received,
                    received,
                    received,
                    event["hostname"],
                    event["message"],
                    "snmp" if event.get("trap_oid") else "syslog",
                    str(event["syslog_severity"]),
                    event.get("trap_oid") or "\\N",
                    "\\N" if decision.rule_id is None else str(decision.rule_id),
                    decision.team,
                    decision.handling,
                    "f",
                    str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    str(BENCH_BATCH_ID),
                    "{}",
                    "none",
                )
            )
            + "\n"
        )
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.copy_expert(
            "COPY event_audit_log (received_at, event_timestamp, processed_at, hostname, message, source, "
            "syslog_severity, trap_oid, rule_id, team_assignment, handling, is_dev, correlation_id, batch_id, "
            "raw_payload, forward_status) FROM STDIN",
            buffer,
        )
        cursor.execute("ANALYZE event_audit_log")
    print(f"seeded {count - have:,} audit rows with COPY in {time.perf_counter() - started:.1f} s")
    return count


def cleanup() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM event_audit_log WHERE batch_id = %s", [BENCH_BATCH_ID])
    AlertRule.objects.filter(team_assignment=BENCH_TEAM).delete()


def start_servers() -> list[subprocess.Popen]:
    env = os.environ | {"LOG_LEVEL": "WARNING"}
    venv = ROOT / ".venv" / "bin"
    web = [str(venv / "gunicorn"), "mutt_project.wsgi:application", "--bind", f"127.0.0.1:{WEB_PORT}",
           "--workers", "2", "--threads", "4"]  # fmt: skip
    ingest = [str(venv / "granian"), "--interface", "wsgi", "ingest.wsgi:application", "--host", "127.0.0.1",
              "--port", str(INGEST_PORT), "--workers", "2", "--no-ws"]  # fmt: skip
    procs = [
        subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for cmd in (web, ingest)
    ]
    deadline = time.monotonic() + 30
    for port in (WEB_PORT, INGEST_PORT):
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise SystemExit(f"server on {port} did not start") from None
                time.sleep(0.2)
    return procs


class HealthProbe(threading.Thread):
    """GET /health on web and ingest every 50 ms; records each latency in ms (an error counts as its time)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.latencies: dict[int, list[float]] = {WEB_PORT: [], INGEST_PORT: []}
        self.failures = 0
        self.running = threading.Event()
        self.stopped = threading.Event()

    def run(self) -> None:
        sessions = {port: requests.Session() for port in self.latencies}
        while not self.stopped.is_set():
            if self.running.is_set():
                for port, session in sessions.items():
                    t0 = time.perf_counter()
                    try:
                        ok = session.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
                    except requests.RequestException:
                        ok = False
                    self.latencies[port].append((time.perf_counter() - t0) * 1000)
                    self.failures += not ok
            time.sleep(0.05)


def decide_only(current, draft, rows) -> float:
    """Seconds to decide ``rows`` twice (in memory: no reading, no diffing)."""
    a, b = current.decide, draft.ruleset.decide
    t0 = time.perf_counter()
    for hostname, message, trap_oid, severity in rows:
        event = {"hostname": hostname, "message": message, "trap_oid": trap_oid, "syslog_severity": severity}
        a(event)
        b(event)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the seeded rules and rows for the next run")
    args = parser.parse_args()
    rng = random.Random(10)
    seed_rules(rng)
    total = seed_events(args.events, rng)
    current = _fresh_ruleset()
    draft = ruleset_with_drafts([DRAFT], base=current)
    print(f"{total:,} stored events, {len(current)} active rules, draft: contains {DRAFT['match_string']!r}")
    procs = start_servers()
    probe = HealthProbe()
    probe.start()
    end = datetime.now(UTC)
    start = end - timedelta(days=7)
    rates, results = [], []
    try:
        for run in range(args.runs):
            probe.running.set()
            t0 = time.perf_counter()
            result = backtest_scan(current, draft, start, end)
            elapsed = time.perf_counter() - t0
            probe.running.clear()
            rates.append(result["scanned"] / elapsed)
            results.append(result)
            t = result["timings"]
            print(
                f"run {run + 1}: {result['scanned']:,} events in {elapsed:.2f} s = {rates[-1]:,.0f} events/s "
                f"(count {t['count_s']:.2f} s, reading rows {t['read_s']:.2f} s, deciding twice + diff "
                f"{t['decide_and_diff_s']:.2f} s); would match {result['would_match']:,}, changed {result['changed']:,}"
            )
    finally:
        probe.stopped.set()
        probe.join(2)
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(10)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT hostname, message, trap_oid, syslog_severity FROM event_audit_log WHERE batch_id = %s LIMIT 200000",
            [BENCH_BATCH_ID],
        )
        sample = cursor.fetchall()
    decide_s = statistics.median(decide_only(current, draft, sample) for _ in range(3)) * total / len(sample)
    median = statistics.median(rates)
    t = results[rates.index(median)]["timings"]
    elapsed = total / median
    print(
        f"\nmedian of {args.runs}: {median:,.0f} events/s ({elapsed:.2f} s for {total:,}); where the time goes "
        f"(median run): count {t['count_s'] / elapsed:.0%}, reading rows {t['read_s'] / elapsed:.0%}, "
        f"pre-filter + deciding twice + diff {t['decide_and_diff_s'] / elapsed:.0%}; without the pre-filter, "
        f"deciding every event twice would cost ~{decide_s:.2f} s alone (in memory)"
    )
    for port, name in ((WEB_PORT, "web"), (INGEST_PORT, "ingest")):
        lat = sorted(probe.latencies[port])
        if lat:
            p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
            print(
                f"/health {name}: {len(lat)} probes during the scans, median {statistics.median(lat):.1f} ms, "
                f"p99 {p99:.1f} ms, max {lat[-1]:.1f} ms"
            )
    print(f"/health failures: {probe.failures}")
    if not args.keep:
        cleanup()


if __name__ == "__main__":
    main()
