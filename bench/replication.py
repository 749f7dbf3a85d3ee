"""What synchronous replication costs: bench/pipeline.py with it off and on, in the same run.

    source .run/env && .venv/bin/python bench/replication.py     # Redis from a `make run` stack

Starts its own PostgreSQL primary and streaming standby (temp dir, free ports, fsync on;
Debian binaries from MUTT_PG_BINDIR or scripts/services.sh's choice), migrates
the schema, runs one ingest process and one classify worker on the primary,
then alternates ``synchronous_standby_names`` between '' (asynchronous: a 202
means "on the primary's disk") and 'standby' (synchronous: "on both machines",
docs/ha.md) and runs the pipeline bench's throughput and latency figures in
each mode (--repeat rounds, modes alternated so drift hits both). Prints the
medians and the ratio synchronous / asynchronous.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import pipeline  # noqa: E402
from chaos.pg_cluster import PgCluster  # noqa: E402

PY = sys.executable
KEY = "bench-replication-key-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bindir() -> str:
    if os.environ.get("MUTT_PG_BINDIR"):
        return os.environ["MUTT_PG_BINDIR"]
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    return str(found[-1].parent)


def wait_http(url: str, timeout: float = 90) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} did not answer")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""))
    parser.add_argument("--events", type=int, default=3000, help="events per throughput run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rate", type=int, default=100, help="steady single-event requests/s")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3, help="rounds (each: async then sync)")
    args = parser.parse_args()
    if not args.redis_url:
        raise SystemExit("set REDIS_URL (source .run/env of a `make run` stack) or pass --redis-url")

    user = os.environ.get("MUTT_PG_USER") or ("postgres" if os.geteuid() == 0 else "")
    pg = PgCluster(pg_bindir(), user)
    procs: list[subprocess.Popen] = []
    try:
        primary = pg.primary_init(
            free_port(), extra_conf="track_commit_timestamp = on\nmax_connections = 200\nfsync = on\n"
        )
        standby = pg.standby_clone("standby", free_port(), primary)
        pg.psql(primary, "CREATE DATABASE mutt")
        db_url = pg.url("primary")
        env = os.environ | {
            "DATABASE_URL": db_url,
            "REDIS_URL": args.redis_url,
            "INGEST_API_KEYS": KEY,
            "LOG_LEVEL": "WARNING",
            "MUTT_SERVICE_NAME": "ingest",
        }
        subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        port = free_port()
        logs = pg.root / "logs"
        logs.mkdir()
        for name, cmd in (
            ("ingest", [PY, "-m", "granian", "--interface", "wsgi", "ingest.wsgi:application", "--host",
                        "127.0.0.1", "--port", str(port), "--workers", "1", "--blocking-threads", "8", "--no-ws"]),
            ("classify", [PY, "-m", "celery", "-A", "mutt_project", "worker", "-Q", "classify", "-n",
                          f"bench-replication-{os.getpid()}@%h", "--concurrency", "2", "--without-gossip",
                          "--without-mingle"]),
        ):  # fmt: skip
            log = (logs / f"{name}.log").open("w")
            procs.append(subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                          start_new_session=True))  # fmt: skip
        wait_http(f"http://127.0.0.1:{port}/health")
        bench_args = SimpleNamespace(
            url=f"http://127.0.0.1:{port}/api/v2/ingest", key=KEY, database_url=db_url.split("?")[0],
            events=args.events, connections=args.connections, processes=1, rate=args.rate,
            duration=args.duration, timeout=180.0,
        )  # fmt: skip
        pipeline.throughput(bench_args, 1)  # warm-up: connections, rule cache, partitions
        results: dict[str, dict[str, list[float]]] = {"async": {}, "sync": {}}
        for round_no in range(args.repeat):
            for mode, names in (("async", ""), ("sync", "standby")):
                pg.psql(primary, f"ALTER SYSTEM SET synchronous_standby_names = '{names}'")
                pg.psql(primary, "SELECT pg_reload_conf()")
                state = _sync_state(pg, primary, mode)
                t = pipeline.throughput(bench_args, 1)
                lat = pipeline.latency(bench_args)
                for key, value in (("events_s", t["events_s"]), ("p50_ms", lat["p50_ms"]), ("p95_ms", lat["p95_ms"])):
                    results[mode].setdefault(key, []).append(value)
                print(f"  round {round_no + 1} {mode:5} ({state}): {t['events_s']:,.0f} events/s single-event, "
                      f"latency p50 {lat['p50_ms']:.1f} ms p95 {lat['p95_ms']:.1f} ms "
                      f"({t['committed']}/{t['events']}, {lat['committed']}/{lat['requests']} committed)")  # fmt: skip
        med = {m: {k: statistics.median(v) for k, v in r.items()} for m, r in results.items()}
        print(f"pipeline, {os.cpu_count()} cores, primary and standby on this machine, medians of {args.repeat}:")
        for mode in ("async", "sync"):
            m = med[mode]
            print(f"  {mode:5}: {m['events_s']:,.0f} events/s; p50 {m['p50_ms']:.1f} ms, p95 {m['p95_ms']:.1f} ms")
        print(
            f"ratio sync/async: throughput {med['sync']['events_s'] / med['async']['events_s']:.2f}, "
            f"p50 latency {med['sync']['p50_ms'] / med['async']['p50_ms']:.2f}, "
            f"p95 latency {med['sync']['p95_ms'] / med['async']['p95_ms']:.2f}"
        )
        del standby
    finally:
        for proc in procs:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(proc.pid, signal.SIGKILL)
        pg.stop_all()
        shutil.rmtree(pg.root, ignore_errors=True)
    return 0


def _sync_state(pg: PgCluster, primary, mode: str) -> str:
    """The standby's replication state as the primary reports it (sync / async), once it shows ``mode``."""
    deadline = time.monotonic() + 30
    while True:
        state = pg.psql(primary, "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby'")
        if state == mode or time.monotonic() > deadline:
            return state
        time.sleep(0.2)


if __name__ == "__main__":
    raise SystemExit(main())
