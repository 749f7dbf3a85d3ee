"""Break a running `make run` stack while events flow, and check nothing is lost.

    source .run/env && .venv/bin/python scripts/chaos.py [--events 10000]

While --events events are posted to ingest (NDJSON, a steady rate), the
classify worker's pool processes are killed with SIGKILL (as the OOM killer
would), then Redis is killed with SIGKILL. Nobody restarts anything: the
supervisor `make run` started does. The script then waits until every accepted
event has exactly one audit row and prints what happened to each process.
Exit status 0 only if all events were classified exactly once and every
supervised process is RUNNING at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil
import psycopg2
import requests

ROOT = Path(__file__).resolve().parent.parent


def supervisor_pids(conf: Path) -> dict[str, tuple[str, int]]:
    """``{program: (state, pid)}`` from ``supervisorctl status``."""
    out = subprocess.run(
        [str(ROOT / ".venv/bin/supervisorctl"), "-c", str(conf), "status"], capture_output=True, text=True
    ).stdout
    result = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            pid = int(parts[3].rstrip(",")) if len(parts) > 3 and parts[2] == "pid" else 0
            result[parts[0]] = (parts[1], pid)
    return result


def event(i: int) -> dict:
    return {
        "timestamp": datetime.now(UTC).isoformat(),
        "hostname": f"chaos-{i % 200:03d}",
        "message": f"%SYS-5-CONFIG_I: Configured from console by admin on vty{i % 48} (chaos {i})",
        "syslog_severity": 5,
    }


class Sender(threading.Thread):
    """Posts events in NDJSON batches at a steady rate; retries a batch until it is accepted."""

    def __init__(self, url: str, key: str, events: int, batch: int, rate: float):
        super().__init__(daemon=True)
        self.url, self.key, self.events, self.batch, self.rate = url, key, events, batch, rate
        self.cids: list[str] = []
        self.retries = 0

    def run(self) -> None:
        session = requests.Session()
        start = time.monotonic()
        for n, first in enumerate(range(0, self.events, self.batch)):
            delay = start + n * self.batch / self.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            body = "\n".join(json.dumps(event(i)) for i in range(first, min(first + self.batch, self.events)))
            while True:
                try:
                    answer = session.post(
                        self.url,
                        data=body.encode(),
                        headers={"X-API-Key": self.key, "Content-Type": "application/x-ndjson"},
                        timeout=10,
                    )
                    if answer.status_code == 202:
                        self.cids.extend(answer.json()["correlation_ids"])
                        break
                except requests.RequestException:
                    pass
                self.retries += 1
                time.sleep(0.2)


def classified(dsn: str, cids: list[str]) -> tuple[int, int]:
    """(audit rows, distinct correlation ids) among ``cids``."""
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT count(*), count(DISTINCT correlation_id) FROM event_audit_log WHERE correlation_id = ANY(%s::uuid[])",
            [cids],
        )
        rows, distinct = cur.fetchone()
    conn.close()
    return rows, distinct


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--rate", type=float, default=500.0, help="events/s posted")
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--run-dir", default=os.environ.get("MUTT_RUN_DIR", str(ROOT / ".run")))
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    conf = Path(args.run_dir) / "supervisord.conf"
    before = supervisor_pids(conf)
    print("before:", {k: v for k, v in before.items()})

    sender = Sender(os.environ["MUTT_INGEST_URL"], os.environ["INGEST_API_KEY"], args.events, args.batch, args.rate)
    started = time.monotonic()
    sender.start()
    time.sleep(4)
    pool = psutil.Process(before["worker-classify"][1]).children()
    for child in pool:
        child.kill()
    print(f"t={time.monotonic() - started:.1f}s killed classify pool processes {[c.pid for c in pool]}")
    time.sleep(3)
    os.kill(supervisor_pids(conf)["redis"][1], 9)
    print(f"t={time.monotonic() - started:.1f}s killed Redis (pid {before['redis'][1]})")
    sender.join()
    print(
        f"t={time.monotonic() - started:.1f}s all {len(sender.cids)} events accepted ({sender.retries} batch retries)"
    )

    deadline = time.monotonic() + args.timeout
    rows = distinct = 0
    while time.monotonic() < deadline:
        rows, distinct = classified(os.environ["DATABASE_URL"], sender.cids)
        if distinct == len(sender.cids):
            break
        time.sleep(1)
    print(f"t={time.monotonic() - started:.1f}s classified: {distinct}/{len(sender.cids)} events, {rows} audit rows")
    after = supervisor_pids(conf)
    for name, (state, pid) in after.items():
        note = "same pid" if pid == before.get(name, ("", 0))[1] else f"restarted (was {before.get(name)})"
        print(f"  {name:20} {state:9} pid {pid:<8} {note}")
    ok = rows == distinct == len(sender.cids) == args.events and all(s == "RUNNING" for s, _ in after.values())
    print("OK: every event classified exactly once, every process running" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
