"""Operator API on 10 million event_audit_log rows: p50/p95 of the event search, one event's trace,
the first unfiltered page and a 10,000-rule list, through the web process (gunicorn) over HTTP;
the query plans (partition pruning); and the admin's event-audit list before/after (no COUNT(*)).

    source .run/data/services.env   # any running MUTT PostgreSQL
    .venv/bin/python bench/api.py [--rows 10000000] [--requests 200] [--port 8192]

The data (``bench/api_data.py``: COPY, spread over 30 days, partitions as
maintenance keeps them) goes into its own database, made once and reused.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import api_data  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed(session: requests.Session, url: str, headers: dict) -> float:
    start = time.perf_counter()
    response = session.get(url, headers=headers, timeout=30)
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url}: {response.status_code} {response.text[:300]}")
    return elapsed


def report(name: str, samples: list[float], budget: float) -> None:
    p50, p95 = statistics.median(samples), pct(samples, 95)
    verdict = "ok" if p95 < budget else "OVER BUDGET"
    print(f"  {name:<58} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  (budget p95 < {budget:.0f} ms: {verdict})")


def start_web(url: str, port: int) -> subprocess.Popen:
    env = os.environ | {
        "DATABASE_URL": url,
        "LOG_LEVEL": "WARNING",
        "API_THROTTLE_RATE": "1000000/min",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789abcdef",
    }
    # As the Procfile runs the web process.
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "mutt_project.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--env",
            "MUTT_SERVICE_NAME=web",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    for _ in range(100):
        try:
            requests.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return proc
        except requests.ConnectionError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("web process did not start")


def django_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutt_project.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def http_bench(base: str, key: str, n: int, hosts: list[str], cids: list[str]) -> None:
    session = requests.Session()
    headers = {"X-API-Key": key}
    now = datetime.now(UTC)
    day_ago = (now - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    month_ago = (now - timedelta(days=30)).isoformat().replace("+00:00", "Z")
    for _ in range(20):  # warm-up: connections, plans, caches
        timed(session, f"{base}/api/v2/events?hostname={random.choice(hosts)}&since={day_ago}", headers)
    print(f"HTTP, one client, {n} requests each, through gunicorn (2 workers x 4 threads):")
    report(
        "GET /api/v2/events?hostname=H&since=-24h",
        [
            timed(session, f"{base}/api/v2/events?hostname={h}&since={day_ago}", headers)
            for h in random.choices(hosts, k=n)
        ],
        100,
    )
    report(
        "GET /api/v2/events?hostname=H&since=-30d (whole table)",
        [
            timed(session, f"{base}/api/v2/events?hostname={h}&since={month_ago}", headers)
            for h in random.choices(hosts, k=n)
        ],
        100,
    )
    report(
        "GET /api/v2/events/{correlation_id}",
        [timed(session, f"{base}/api/v2/events/{c}", headers) for c in random.choices(cids, k=n)],
        100,
    )
    report(
        "GET /api/v2/events (first page, unfiltered, last hour)",
        [timed(session, f"{base}/api/v2/events", headers) for _ in range(n)],
        200,
    )
    report(
        "GET /api/v2/events?since=-30d (first page, unfiltered, 30 days)",
        [timed(session, f"{base}/api/v2/events?since={month_ago}", headers) for _ in range(n)],
        200,
    )
    report(
        "GET /api/v2/events?since=-30d&cursor=... (page 2, keyset)",
        [
            timed(
                session,
                f"{base}/api/v2/events?since={month_ago}&cursor="
                + session.get(f"{base}/api/v2/events?since={month_ago}&limit=100", headers=headers).json()[
                    "next_cursor"
                ],
                headers,
            )
            for _ in range(max(10, n // 10))
        ],
        200,
    )
    report(
        "GET /api/v2/rules?limit=1000 (10,000 rules, with total)",
        [timed(session, f"{base}/api/v2/rules?limit=1000", headers) for _ in range(max(20, n // 5))],
        300,
    )
    report(
        "GET /api/v2/rules (first 100 of 10,000)",
        [timed(session, f"{base}/api/v2/rules", headers) for _ in range(n)],
        300,
    )


def plans(host: str, cid: str) -> None:
    from alerts.models import EventAuditLog
    from alerts.selectors import EventFilters, events_queryset

    now = datetime.now(UTC)
    print("\nQuery plans (EXPLAIN ANALYZE):")
    qs = events_queryset(EventFilters(since=now - timedelta(days=1), until=now, hostname=host))[:101]
    print(f"-- events?hostname={host}&since=-24h\n{qs.explain(analyze=True)}\n")
    qs = events_queryset(EventFilters(since=now - timedelta(hours=1), until=now))[:101]
    print(f"-- events (first page, last hour)\n{qs.explain(analyze=True)}\n")
    qs = EventAuditLog.objects.filter(correlation_id=cid).order_by("-received_at")[:1]
    print(f"-- events/{cid}\n{qs.explain(analyze=True)}\n")


def admin_bench(runs: int) -> None:
    from django.contrib import admin
    from django.contrib.auth import get_user_model
    from django.core.paginator import Paginator
    from django.test import Client

    from alerts.models import EventAuditLog

    user = get_user_model().objects.filter(username="bench-admin").first()
    user = user or get_user_model().objects.create_superuser("bench-admin", "bench@localhost", None)
    client = Client()
    client.force_login(user)
    model_admin = admin.site._registry[EventAuditLog]
    after = (model_admin.paginator, model_admin.list_filter, model_admin.date_hierarchy)
    before = (Paginator, ("handling", "forward_status", "source", "is_dev"), "received_at")  # the admin until now

    def page_ms() -> float:
        start = time.perf_counter()
        assert client.get("/admin/alerts/eventauditlog/").status_code == 200
        return (time.perf_counter() - start) * 1000

    print("Admin event-audit list page (/admin/alerts/eventauditlog/), in-process, median of", runs)
    for label, config in (
        ("before (COUNT(*), date_hierarchy, DISTINCT handling)", before),
        ("after (planner estimate, fixed filters)", after),
    ):
        model_admin.paginator, model_admin.list_filter, model_admin.date_hierarchy = config
        page_ms()
        samples = [page_ms() for _ in range(runs)]
        print(f"  {label:<58} median {statistics.median(samples):8.1f} ms")
    model_admin.paginator, model_admin.list_filter, model_admin.date_hierarchy = after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="mutt_bench_api")
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--port", type=int, default=8192)
    parser.add_argument("--admin-runs", type=int, default=5)
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}")
    url = api_data.ensure_database(args.database)
    api_data.load_events(url, args.rows, 30)
    api_data.load_rules(url, args.rules)
    django_setup(url)
    from alerts.models import EventAuditLog
    from alerts.services.api_keys import api_key_create

    _, key = api_key_create(name="bench", scope="read")
    hosts = [api_data.host_name(i) for i in range(api_data.HOSTS)]
    cids = [
        str(c)
        for c in EventAuditLog.objects.extra(tables=[], where=["random() < 0.0001"]).values_list(
            "correlation_id", flat=True
        )[:500]
    ]
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'event_audit_log'::regclass")
        print(f"event_audit_log: {args.rows:,} rows over 30 days in {cur.fetchone()[0]} partitions")
    web = start_web(url, args.port)
    try:
        http_bench(f"http://127.0.0.1:{args.port}", key, args.requests, hosts, cids)
    finally:
        web.terminate()
        web.wait(timeout=20)
    plans(random.choice(hosts), random.choice(cids))
    admin_bench(args.admin_runs)


if __name__ == "__main__":
    main()
