"""Forwarding under a rate limit: delivered alerts/s and forwarder CPU per alert for batch sizes
1, 10 and 100, and the claim query's time with a million rows waiting.

Needs a running PostgreSQL and Redis (``source <data>/services.env``). Uses
its own database (``<name>_bench_forward``, created and migrated on first
use), so it never touches the outbox of a running stack. Starts the Moogsoft
stand-in in this process and, per batch size, ONE ``celery worker -Q forward``
(prefork, concurrency 1, ``MOOG_BATCH_SIZE`` set); seeds the outbox with one
``INSERT … SELECT``, wakes the forwarders once and waits until it is empty.

Per batch size, ``--repeats`` drains of ``rate × batch × --seconds`` alerts:
alerts/s delivered and the worker's CPU per alert (psutil: user + system of
the worker and its pool child), medians. Then one million rows are seeded
(98 % ``Ticket_only``, 2 % ``Page_only``) and the claim query is timed at the
chunk size each batch size uses (median of ``--claims`` successive claims, as
a draining worker makes them: each takes the next chunk, the pages first),
next to the preemption probe and the per-class statistics query.

The machine is shared and noisy (other processes compete for two cores): read
the medians as orders of magnitude, and compare runs made one after the other.

Run: ``.venv/bin/python bench/forward.py [--rate 50] [--seconds 10] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.database import bench_database  # noqa: E402

BATCH_SIZES = (1, 10, 100)


def cpu_seconds(proc) -> float:
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        times = p.cpu_times()
        total += times.user + times.system
    return total


def start_worker(env: dict, log_path: Path) -> subprocess.Popen:
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "mutt_project",
                "worker",
                "-Q",
                "forward",
                "-n",
                f"bench-forward-{os.getpid()}@%h",
                "--concurrency",
                "1",
                "--pool",
                "prefork",
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    while "ready." not in log_path.read_text():
        if worker.poll() is not None:
            raise SystemExit(f"worker exited:\n{log_path.read_text()[-2000:]}")
        time.sleep(0.2)
    return worker


def outbox_truncate() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE alert_outbox")


def drain_once(proc, count: int) -> tuple[float, float]:
    """Seed ``count`` alerts, wake, wait for an empty outbox: (alerts/s, CPU ms per alert)."""
    from alerts.models import AlertOutbox
    from alerts.wakeup import WakeKind, wake
    from tests.forwarding.factories import outbox_seed

    outbox_seed(count, "Ticket_only")
    time.sleep(1)  # let the worker settle after the previous drain
    cpu_before, started = cpu_seconds(proc), time.monotonic()
    wake(WakeKind.FORWARD)
    while AlertOutbox.objects.exists():  # one cheap query every 0.2 s
        time.sleep(0.2)
    drain = time.monotonic() - started
    cpu = cpu_seconds(proc) - cpu_before
    return count / drain, 1000 * cpu / count


def timed(fn, repeats: int) -> float:
    """Median milliseconds of ``fn()``."""
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        samples.append(1000 * (time.perf_counter() - started))
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=50, help="MOOG_RATE_LIMIT, requests/s")
    parser.add_argument("--seconds", type=float, default=10.0, help="each drain is about this long at the limit")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rows", type=int, default=1_000_000, help="outbox rows for the claim timing")
    parser.add_argument("--claims", type=int, default=20)
    parser.add_argument("--skip-drains", action="store_true", help="only the claim timing")
    args = parser.parse_args()

    db_url = bench_database(urlparse(os.environ["DATABASE_URL"]).path.strip("/") + "_bench_forward")
    os.environ["DATABASE_URL"] = db_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutt_project.settings")
    os.environ["MOOG_RATE_LIMIT"] = str(args.rate)

    import django

    django.setup()
    import psutil
    from django.conf import settings
    from django.db import connection

    from forwarding.moog_sink import make_server
    from forwarding.outbox_lease import outbox_claim, outbox_higher_due
    from forwarding.outbox_stats import outbox_class_stats
    from mutt_project import redis_keys
    from mutt_project.redis_client import get_redis
    from tests.forwarding.factories import outbox_seed

    server = make_server("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sink = f"http://127.0.0.1:{server.server_address[1]}/"
    redis = get_redis()
    log_path = ROOT / ".run" / "bench-forward-worker.log"
    log_path.parent.mkdir(exist_ok=True)

    print(f"rate limit {args.rate} requests/s, one forward worker; medians of {args.repeats} drains")
    print("(shared, noisy 2-core machine: compare runs made one after the other)")
    drains = {}
    for batch in () if args.skip_drains else BATCH_SIZES:
        outbox_truncate()
        for key in redis.scan_iter(f"{redis_keys.PREFIX}:*"):
            redis.delete(key)
        env = os.environ | {"MOOG_WEBHOOK_URL": sink, "LOG_LEVEL": "WARNING", "MOOG_BATCH_SIZE": str(batch)}
        worker = start_worker(env, log_path)
        try:
            proc = psutil.Process(worker.pid)
            count = int(args.rate * batch * args.seconds)
            runs = [drain_once(proc, count) for _ in range(args.repeats)]
        finally:
            os.killpg(worker.pid, 15)
            worker.wait(timeout=30)
        rate = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        drains[batch] = (rate, cpu)
        print(
            f"batch {batch:>3}: {count:>6} alerts per drain, {rate:8.1f} alerts/s delivered, {cpu:.3f} ms CPU per alert"
        )
    server.server_close()

    outbox_truncate()
    started = time.monotonic()
    pages = args.rows // 50
    outbox_seed(args.rows - pages, "Ticket_only")
    outbox_seed(pages, "Page_only")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE alert_outbox")
    print(
        f"\nclaim query with {args.rows} rows waiting (seeded in {time.monotonic() - started:.0f} s), median of {args.claims}:"
    )
    per_second = settings.MOOG_RATE_LIMIT / settings.MOOG_RATE_PERIOD
    for batch in BATCH_SIZES:
        size = min(settings.FORWARD_CLAIM_SIZE, int(per_second * 2)) * batch
        samples, ranks = [], set()
        for _ in range(args.claims):
            started = time.perf_counter()
            rows = outbox_claim(size)  # left leased, as a draining worker leaves them
            samples.append(1000 * (time.perf_counter() - started))
            ranks |= {r.rank for r in rows}
        taken = "+".join(("pages", "tickets")[r] for r in sorted(ranks))
        median = statistics.median(samples)
        print(
            f"batch {batch:>3}: chunk {size:>6} rows: {median:7.2f} ms per claim ({1000 * median / size:.0f} µs/row; {taken})"
        )
    probe_ms = timed(lambda: outbox_higher_due(1), args.claims)
    stats_ms = timed(outbox_class_stats, 3)
    print(f"preemption probe (a higher class due?): {probe_ms:.3f} ms; per-class statistics: {stats_ms:.0f} ms")
    outbox_truncate()


if __name__ == "__main__":
    main()
