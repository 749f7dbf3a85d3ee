"""Explain latency through the API: POST /api/v2/rules/test with one event, p50/p95/p99.

Needs a running PostgreSQL and Redis (``source <data>/services.env``) and a
migrated database. Starts the web process (gunicorn, as ``make run`` does) on
127.0.0.1:8178, logs a bench user in (session + CSRF, as the admin's browser
does), and sends ``--requests`` explain requests for one event against the 7
sample rules plus 107 generated ones (the live set, and with one draft rule on top).

Run: ``.venv/bin/python bench/explain.py [--requests 500] [--rounds 3]`` (prints the median p95 of the rounds).
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutt_project.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402

from alerts.models import AlertRule  # noqa: E402
from bench.backtest import BENCH_TEAM, DRAFT, seed_rules  # noqa: E402

PORT = 8178
URL = f"http://127.0.0.1:{PORT}"


def login(session: requests.Session, username: str, password: str) -> str:
    session.get(f"{URL}/admin/login/", timeout=10)
    token = session.cookies["csrftoken"]
    response = session.post(
        f"{URL}/admin/login/?next=/admin/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token, "next": "/admin/"},
        timeout=10,
    )
    response.raise_for_status()
    if "sessionid" not in session.cookies:
        raise SystemExit("login failed")
    return session.cookies["csrftoken"]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def measure(session: requests.Session, token: str, body: dict, count: int) -> list[float]:
    times = []
    for _ in range(count):
        t0 = time.perf_counter()
        response = session.post(f"{URL}/api/v2/rules/test", json=body, headers={"X-CSRFToken": token}, timeout=10)
        times.append((time.perf_counter() - t0) * 1000)
        response.raise_for_status()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    seeded_here = not AlertRule.objects.filter(team_assignment=BENCH_TEAM).exists()
    seed_rules(random.Random(10))
    password = secrets.token_urlsafe(16)
    user_model = get_user_model()
    user_model.objects.filter(username="bench-explain").delete()
    user_model.objects.create_user("bench-explain", password=password, is_staff=True)
    web = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "mutt_project.wsgi:application", "--bind", f"127.0.0.1:{PORT}",
         "--workers", "2", "--threads", "4"],
        cwd=ROOT, env=os.environ | {"LOG_LEVEL": "WARNING"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{URL}/health", timeout=1)
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise SystemExit("web did not start") from None
                time.sleep(0.2)
        session = requests.Session()
        token = login(session, "bench-explain", password)
        event = {"hostname": "core-router-01", "message": "%LINK-3-UPDOWN: Interface Gi0/1 changed state to down",
                 "syslog_severity": 3, "timestamp": "2026-01-01T00:00:00Z"}  # fmt: skip
        for label, body in (
            ("live rules", {"events": [event]}),
            ("one draft on top", {"events": [event], "rules": [DRAFT]}),
        ):
            measure(session, token, body, 20)  # warm both gunicorn workers
            p95s = []
            for _ in range(args.rounds):
                times = measure(session, token, body, args.requests)
                p95s.append(percentile(times, 0.95))
                print(
                    f"explain one event ({label}): {args.requests} requests, p50 {statistics.median(times):.1f} ms, "
                    f"p95 {p95s[-1]:.1f} ms, p99 {percentile(times, 0.99):.1f} ms"
                )
            print(f"explain one event ({label}): median p95 of {args.rounds} rounds {statistics.median(p95s):.1f} ms")
    finally:
        web.terminate()
        web.wait(10)
        user_model.objects.filter(username="bench-explain").delete()
        if seeded_here:
            AlertRule.objects.filter(team_assignment=BENCH_TEAM).delete()


if __name__ == "__main__":
    main()
