"""Benchmark the front door: a RUNNING ingest server driven by many concurrent clients.

    make bench-ingest                      # against MUTT_INGEST_URL with INGEST_API_KEY (.run/env)
    .venv/bin/python bench/ingest.py --url http://127.0.0.1:18080/api/v2/ingest --key KEY

Three figures, each repeated (--repeat) and reported as the median run:

1. single-event requests, closed loop (--connections clients): accepted events/s, p50, p99;
2. 100-event NDJSON batches, closed loop: accepted events/s, p50, p99;
3. a steady --rate single-event requests/s, open loop: p50, p99 measured from
   each request's scheduled start (so a stall is not hidden by the client waiting).

Closed-loop runs use ``wrk`` when it is installed (apt-get install wrk: C, so
the load generator takes little of the CPU the server needs) and a
multi-process asyncio client otherwise. Only 202 answers count as accepted.
Run it with PostgreSQL and Redis up and the workers stopped to measure the
front door alone; the figures depend on the machine, so the core count is printed.
With the workers stopped every accepted event stays in the backlog, so start
the ingest process with a MAX_INGEST_QUEUE_SIZE above what the runs send
(millions), or the later runs measure backpressure: 503s, counted as refused.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit


def sample_event(i: int) -> dict:
    return {
        "timestamp": datetime.now(UTC).isoformat(),
        "hostname": f"router-{i % 500:03d}",
        "message": f"%LINK-3-UPDOWN: Interface Gi0/{i % 48} changed state to down",
        "syslog_severity": 3,
    }


def bodies(batch: int) -> tuple[bytes, str]:
    if batch == 1:
        return json.dumps(sample_event(0)).encode(), "application/json"
    return b"\n".join(json.dumps(sample_event(i)).encode() for i in range(batch)), "application/x-ndjson"


# --------------------------------------------------------------------------- wrk (closed loop)

WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = %(content_type)s
wrk.headers["X-API-Key"] = %(key)s
local f = io.open(%(body_path)s, "rb"); wrk.body = f:read("*a"); f:close()
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) accepted = 0; refused = 0 end
function response(status, headers, body)
  if status == 202 then accepted = accepted + 1 else refused = refused + 1 end
end
function done(summary, latency, requests)
  local a, r = 0, 0
  for _, t in ipairs(threads) do a = a + t:get("accepted"); r = r + t:get("refused") end
  io.write(string.format("RESULT %%d %%d %%d %%d %%d\\n", a, r, summary.duration,
    latency:percentile(50), latency:percentile(99)))
end
"""


def run_wrk(url: str, key: str, batch: int, connections: int, duration: int) -> dict:
    body, content_type = bodies(batch)
    with tempfile.TemporaryDirectory() as tmp:
        body_path = os.path.join(tmp, "body")
        with open(body_path, "wb") as f:
            f.write(body)
        script = os.path.join(tmp, "ingest.lua")
        with open(script, "w") as f:
            f.write(
                WRK_SCRIPT
                % {"content_type": json.dumps(content_type), "key": json.dumps(key), "body_path": json.dumps(body_path)}
            )
        out = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "-s", script, url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    accepted, refused, duration_us, p50, p99 = map(int, out.split("RESULT", 1)[1].split())
    return {
        "requests_s": (accepted + refused) / (duration_us / 1e6),
        "events_s": accepted * batch / (duration_us / 1e6),
        "refused": refused,
        "p50_ms": p50 / 1000,
        "p99_ms": p99 / 1000,
    }


# --------------------------------------------------------------------------- asyncio client


class Connection:
    """A minimal keep-alive HTTP/1.1 client: enough for POSTs with a Content-Length answer.

    ``post()`` sends the request given at construction; ``post_body()`` any
    other body on the same connection (bench/pipeline.py, which needs the answer).
    """

    def __init__(self, host: str, port: int, path: str, key: str, body: bytes = b"", content_type: str = ""):
        self.address = (host, port)
        self.head = f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nX-API-Key: {key}\r\n"
        self.request = self._request(body, content_type)
        self.reader = self.writer = None

    def _request(self, body: bytes, content_type: str) -> bytes:
        return (self.head + f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body

    async def _send(self, request: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(*self.address)
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return int(head[9:12]), await self.reader.readexactly(length)

    async def post(self) -> int:
        return (await self._send(self.request))[0]

    async def post_body(self, body: bytes, content_type: str) -> tuple[int, bytes]:
        return await self._send(self._request(body, content_type))


async def _closed_loop(url, key, batch, connections, duration) -> tuple[int, int, list[float]]:
    parts = urlsplit(url)
    body, content_type = bodies(batch)
    latencies: list[float] = []
    counts = {"accepted": 0, "refused": 0}
    deadline = time.perf_counter() + duration

    async def client():
        conn = Connection(parts.hostname, parts.port or 80, parts.path, key, body, content_type)
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            status = await conn.post()
            latencies.append(time.perf_counter() - start)
            counts["accepted" if status == 202 else "refused"] += 1

    await asyncio.gather(*(client() for _ in range(connections)))
    return counts["accepted"], counts["refused"], latencies


def _closed_loop_process(args) -> tuple[int, int, list[float]]:
    return asyncio.run(_closed_loop(*args))


def run_python_closed(url, key, batch, connections, duration, processes=2) -> dict:
    with multiprocessing.Pool(processes) as pool:
        results = pool.map(_closed_loop_process, [(url, key, batch, connections // processes, duration)] * processes)
    accepted = sum(r[0] for r in results)
    refused = sum(r[1] for r in results)
    latencies = sorted(x for r in results for x in r[2])
    return {
        "requests_s": (accepted + refused) / duration,
        "events_s": accepted * batch / duration,
        "refused": refused,
        "p50_ms": _pct(latencies, 50),
        "p99_ms": _pct(latencies, 99),
    }


async def _open_loop(url, key, rate, duration) -> dict:
    """Requests start on a fixed schedule whatever the server does; latency counts from the schedule."""
    parts = urlsplit(url)
    body, content_type = bodies(1)
    idle: list[Connection] = []
    latencies: list[float] = []
    counts = {"accepted": 0, "refused": 0}

    async def one(scheduled: float):
        conn = idle.pop() if idle else Connection(parts.hostname, parts.port or 80, parts.path, key, body, content_type)
        status = await conn.post()
        latencies.append(time.perf_counter() - scheduled)
        counts["accepted" if status == 202 else "refused"] += 1
        idle.append(conn)

    start = time.perf_counter()
    tasks = []
    for i in range(int(rate * duration)):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled)))
    await asyncio.gather(*tasks)
    latencies.sort()
    return {
        "requests_s": len(latencies) / (time.perf_counter() - start),
        "refused": counts["refused"],
        "p50_ms": _pct(latencies, 50),
        "p99_ms": _pct(latencies, 99),
    }


def _pct(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * pct / 100))] * 1000


# --------------------------------------------------------------------------- main


def _unreachable(url: str) -> str | None:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port or 80), timeout=2).close()
    except OSError as exc:
        return f"{url} unreachable ({exc})"
    return None


def median_run(runs: list[dict], key: str) -> dict:
    return sorted(runs, key=lambda r: r[key])[len(runs) // 2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("MUTT_INGEST_URL", "http://127.0.0.1:8080/api/v2/ingest"))
    parser.add_argument("--key", default=os.environ.get("INGEST_API_KEY", ""))
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--connections", type=int, default=64, help="concurrent clients (closed loop)")
    parser.add_argument("--batch-connections", type=int, default=16, help="concurrent clients for batches")
    parser.add_argument("--rate", type=int, default=1000, help="steady single-event requests/s (open loop)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the median is reported")
    args, _ = parser.parse_known_args()  # `make bench` hands every benchmark the same arguments
    reason = "no API key (pass --key or set INGEST_API_KEY)" if not args.key else _unreachable(args.url)
    if reason:
        # `make bench` runs every benchmark; without a running stack this one has nothing to drive.
        print(f"ingest benchmark skipped: {reason}; start the stack (make run) and source .run/env")
        return 0

    closed = run_wrk if shutil.which("wrk") else run_python_closed
    print(
        f"ingest benchmark: {args.url}  cores={os.cpu_count()}  load generator="
        f"{'wrk' if closed is run_wrk else 'python asyncio'}  runs={args.repeat}x{args.duration}s"
    )
    figures = {}
    for label, batch, conns in (("single-event", 1, args.connections), ("ndjson-100", 100, args.batch_connections)):
        runs = [closed(args.url, args.key, batch, conns, args.duration) for _ in range(args.repeat)]
        for run in runs:
            print(
                f"  {label:13s} run: {run['events_s']:9.0f} events/s  p50 {run['p50_ms']:6.1f} ms  "
                f"p99 {run['p99_ms']:6.1f} ms  refused {run['refused']}",
                flush=True,
            )
        figures[label] = median_run(runs, "events_s")
    steady = [asyncio.run(_open_loop(args.url, args.key, args.rate, args.duration)) for _ in range(args.repeat)]
    for run in steady:
        print(
            f"  steady {args.rate}/s run: {run['requests_s']:7.0f} req/s  p50 {run['p50_ms']:6.1f} ms  "
            f"p99 {run['p99_ms']:6.1f} ms  refused {run['refused']}",
            flush=True,
        )
    figures[f"steady-{args.rate}"] = median_run(steady, "p99_ms")

    print(f"\nmedians (cores={os.cpu_count()}):")
    for label in ("single-event", "ndjson-100"):
        f = figures[label]
        print(
            f"  {label:13s} {f['events_s']:9.0f} accepted events/s  p50 {f['p50_ms']:.1f} ms  p99 {f['p99_ms']:.1f} ms"
        )
    f = figures[f"steady-{args.rate}"]
    print(f"  steady {args.rate} req/s: p50 {f['p50_ms']:.1f} ms  p99 {f['p99_ms']:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
