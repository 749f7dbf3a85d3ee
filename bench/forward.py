"""Forwarding under a rate limit: a backlog drained by one real forward worker, and what it costs in CPU.

Needs a running PostgreSQL and Redis (``source <data>/services.env``). Uses
its own database (``<name>_bench_forward``, created and migrated on first
use), so it never touches the outbox of a running stack. Starts the Moogsoft
stand-in in this process and ONE ``celery worker -Q forward`` (prefork,
concurrency 1), inserts N due outbox rows, wakes the forwarders once and waits
until the stand-in has them all.

Reports the drain time, the achieved rate and the CPU seconds the worker
process tree used during the drain (psutil: user + system of the main process
and its pool child). A forwarder paced by sleeping costs only the requests
themselves; one that spun or rescheduled a Celery message per alert would
burn a core.

Run: ``.venv/bin/python bench/forward.py [--alerts 10000] [--rate 50]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def bench_database_url() -> str:
    url = urlparse(os.environ["DATABASE_URL"])
    return urlunparse(url._replace(path=url.path.rstrip("/") + "_bench_forward"))


def ensure_database(url: str) -> None:
    import psycopg2

    name = urlparse(url).path.lstrip("/")
    admin = psycopg2.connect(os.environ["DATABASE_URL"])
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if not cursor.fetchone():
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"],
        cwd=ROOT,
        check=True,
        env=os.environ | {"DATABASE_URL": url},
    )


def cpu_seconds(proc) -> float:
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        times = p.cpu_times()
        total += times.user + times.system
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=50)
    args = parser.parse_args()

    db_url = bench_database_url()
    ensure_database(db_url)
    os.environ["DATABASE_URL"] = db_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutt_project.settings")
    os.environ["MOOG_RATE_LIMIT"] = str(args.rate)

    import django

    django.setup()
    import psutil
    import requests

    from alerts.models import AlertOutbox
    from alerts.wakeup import WakeKind, wake
    from forwarding.moog_sink import make_server
    from mutt_project import redis_keys
    from mutt_project.redis_client import get_redis
    from tests.forwarding.factories import outbox_rows

    server = make_server("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sink = f"http://127.0.0.1:{server.server_address[1]}/"

    AlertOutbox.objects.all().delete()
    redis = get_redis()
    for key in redis.scan_iter(f"{redis_keys.PREFIX}:*"):
        redis.delete(key)
    log_path = ROOT / ".run" / "bench-forward-worker.log"
    log_path.parent.mkdir(exist_ok=True)
    worker_env = os.environ | {"MOOG_WEBHOOK_URL": sink, "LOG_LEVEL": "WARNING"}
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
            env=worker_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        while "ready." not in log_path.read_text():
            time.sleep(0.2)
        proc = psutil.Process(worker.pid)
        for start in range(0, args.alerts, 5000):
            outbox_rows(min(5000, args.alerts - start))
        idle_before = cpu_seconds(proc)
        time.sleep(2)
        idle = cpu_seconds(proc) - idle_before

        cpu_before, started = cpu_seconds(proc), time.monotonic()
        wake(WakeKind.FORWARD)
        while AlertOutbox.objects.exists():  # one cheap query a second; the stand-in is checked once at the end
            time.sleep(0.5)
        drain = time.monotonic() - started
        cpu = cpu_seconds(proc) - cpu_before
        received = len(requests.get(sink + "received", params={"accepted": "1"}, timeout=60).json())
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(timeout=30)
    print(f"stand-in accepted {received} of {args.alerts}")
    print(f"alerts {args.alerts}, limit {args.rate}/s: drained in {drain:.1f} s ({args.alerts / drain:.1f}/s)")
    print(
        f"forward worker CPU during the drain: {cpu:.2f} s ({100 * cpu / drain:.1f} % of one core,"
        f" {1000 * cpu / args.alerts:.2f} ms per alert); idle worker before the wake: {idle:.2f} s in 2 s"
    )


if __name__ == "__main__":
    main()
