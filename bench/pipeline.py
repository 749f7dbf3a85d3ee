"""Benchmark the whole pipeline: ingest request → committed audit row, workers running.

    source .run/env && .venv/bin/python bench/pipeline.py            # a running `make run` stack

Two figures, each run --repeat times, the median reported:

1. throughput, closed loop: --connections clients send --events events as
   single-event requests (and then as 100-event NDJSON requests); events/s is
   events ÷ (last audit row committed − first request sent);
2. latency at a steady --rate single-event requests/s (open loop, from each
   request's scheduled start): p50/p95/p99 of "ingest request → audit row
   committed".

Commit times are PostgreSQL's own (pg_xact_commit_timestamp, enabled by
``track_commit_timestamp = on`` in the clusters scripts/services.sh creates);
on a cluster without it the audit row's processed_at (just before the
INSERT of its batch) is used and the output says so. Client and server share
this machine's clock.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.ingest import Connection  # noqa: E402  (one HTTP client for both benches)


def client_for(url: str, key: str) -> Connection:
    parts = urlsplit(url)
    return Connection(parts.hostname, parts.port or 80, parts.path, key)


# Default: a configuration-change message no sample rule forwards, so the
# figure is ingest + classification, not the Moogsoft rate limit (--message to change).
MESSAGE = "%SYS-5-CONFIG_I: Configured from console by admin on vty{n}"


def event(i: int) -> dict:
    return {
        "timestamp": datetime.now(UTC).isoformat(),
        "hostname": f"bench-{i % 500:03d}",
        "message": MESSAGE.format(n=i % 48),
        "syslog_severity": 5,
    }


def _cids(status: int, body: bytes) -> list[str]:
    if status != 202:
        return []
    doc = json.loads(body)
    return doc.get("correlation_ids") or [doc["correlation_id"]]


async def _closed(url, key, batch, requests, connections):
    sent: list[tuple[float, list[str]]] = []
    refused = 0
    queue = list(range(requests))

    async def worker():
        nonlocal refused
        client = client_for(url, key)
        while queue:
            i = queue.pop()
            if batch == 1:
                body, ctype = json.dumps(event(i)).encode(), "application/json"
            else:
                body = b"\n".join(json.dumps(event(i * batch + j)).encode() for j in range(batch))
                ctype = "application/x-ndjson"
            start = time.time()
            status, answer = await client.post_body(body, ctype)
            cids = _cids(status, answer)
            refused += status != 202
            sent.append((start, cids))

    await asyncio.gather(*(worker() for _ in range(connections)))
    return sent, refused


def _closed_process(args):
    return asyncio.run(_closed(*args))


async def _open(url, key, rate, duration):
    idle: list[Connection] = []
    sent: list[tuple[float, list[str]]] = []
    refused = 0

    async def one(i: int, scheduled: float):
        nonlocal refused
        client = idle.pop() if idle else client_for(url, key)
        status, answer = await client.post_body(json.dumps(event(i)).encode(), "application/json")
        refused += status != 202
        sent.append((scheduled, _cids(status, answer)))
        idle.append(client)

    start = time.time()
    tasks = []
    for i in range(int(rate * duration)):
        scheduled = start + i / rate
        delay = scheduled - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, scheduled)))
    await asyncio.gather(*tasks)
    return sent, refused


def commit_times(dsn: str, cids: list[str], timeout: float) -> tuple[dict[str, float], str]:
    """Wait until every correlation id has an audit row; return its commit time (epoch seconds)."""
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SHOW track_commit_timestamp")
        exact = cur.fetchone()[0] == "on"
        column = "pg_xact_commit_timestamp(xmin)" if exact else "processed_at"
        deadline = time.time() + timeout
        found: dict[str, float] = {}
        pending = list(cids)
        while pending and time.time() < deadline:
            cur.execute(
                f"SELECT correlation_id::text, extract(epoch FROM {column}) FROM event_audit_log "
                "WHERE correlation_id = ANY(%s::uuid[]) AND received_at > now() - interval '1 hour'",
                [pending],
            )
            for cid, ts in cur.fetchall():
                found[cid] = float(ts)
            pending = [c for c in pending if c not in found]
            if pending:
                time.sleep(0.2)
        conn.rollback()
    return found, "commit timestamp" if exact else "processed_at (track_commit_timestamp off)"


def throughput(args, batch: int) -> dict:
    per_process = max(1, args.events // batch // args.processes)
    with multiprocessing.Pool(args.processes) as pool:
        results = pool.map(
            _closed_process,
            [(args.url, args.key, batch, per_process, args.connections // args.processes)] * args.processes,
        )
    sent = [s for r in results for s in r[0]]
    refused = sum(r[1] for r in results)
    cids = [c for _, cs in sent for c in cs]
    committed, clock = commit_times(args.database_url, cids, args.timeout)
    first = min(t for t, _ in sent)
    last = max(committed.values()) if committed else float("nan")
    return {
        "events": len(cids),
        "committed": len(committed),
        "refused_requests": refused,
        "events_s": len(committed) / (last - first),
        "clock": clock,
    }


def latency(args) -> dict:
    sent, refused = asyncio.run(_open(args.url, args.key, args.rate, args.duration))
    cids = {c: t for t, cs in sent for c in cs}
    committed, clock = commit_times(args.database_url, list(cids), args.timeout)
    lat = sorted((committed[c] - t) * 1000 for c, t in cids.items() if c in committed)
    pct = lambda p: lat[min(len(lat) - 1, int(len(lat) * p / 100))] if lat else float("nan")  # noqa: E731
    return {
        "requests": len(sent),
        "committed": len(committed),
        "refused": refused,
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "clock": clock,
    }


def main() -> int:
    global MESSAGE
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("MUTT_INGEST_URL", "http://127.0.0.1:8080/api/v2/ingest"))
    parser.add_argument("--key", default=os.environ.get("INGEST_API_KEY", ""))
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--events", type=int, default=30000, help="events per throughput run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--processes", type=int, default=2, help="load-generator processes")
    parser.add_argument("--rate", type=int, default=1000, help="steady single-event requests/s")
    parser.add_argument("--duration", type=int, default=10, help="seconds of the steady-rate run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--only", choices=["single", "ndjson", "latency"], action="append")
    parser.add_argument("--message", default=MESSAGE, help="event message ({n} is replaced by a number)")
    args = parser.parse_args()
    MESSAGE = args.message
    only = set(args.only or ["single", "ndjson", "latency"])
    print(f"pipeline bench: {os.cpu_count()} cores, {args.url}")
    for name, batch in (("single", 1), ("ndjson", 100)):
        if name not in only:
            continue
        runs = [throughput(args, batch) for _ in range(args.repeat)]
        for r in runs:
            print(
                f"  {name:6} run: {r['committed']}/{r['events']} committed, {r['events_s']:,.0f} events/s "
                f"({r['refused_requests']} requests refused)"
            )
        print(
            f"{name} requests end to end: median {statistics.median(r['events_s'] for r in runs):,.0f} events/s "
            f"[{runs[0]['clock']}]"
        )
    if "latency" in only:
        runs = [latency(args) for _ in range(args.repeat)]
        for r in runs:
            print(
                f"  latency run: {r['committed']}/{r['requests']} committed, p50 {r['p50_ms']:.1f} ms, "
                f"p95 {r['p95_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms ({r['refused']} refused)"
            )
        med = sorted(runs, key=lambda r: r["p95_ms"])[len(runs) // 2]
        print(
            f"steady {args.rate}/s single-event, ingest → committed audit row: p50 {med['p50_ms']:.1f} ms, "
            f"p95 {med['p95_ms']:.1f} ms, p99 {med['p99_ms']:.1f} ms (median run) [{med['clock']}]"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
