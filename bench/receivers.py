"""Benchmark the native receivers end to end (sent → audited) beside the HTTP NDJSON path.

    source .run/test/services.env   # or .run/env: DATABASE_URL and REDIS_URL of a running PostgreSQL/Redis
    .venv/bin/python bench/receivers.py [--messages 20000] [--udp-seconds 5]
    .venv/bin/python bench/receivers.py --conservation --services-dir .run/test   # 100,000 TCP, kill + PG stop

Starts its own receivers process, ingest server and classify workers on a
database of its own (``mutt_bench_receivers``), then reports:

1. end-to-end messages/s (written by the sender until every one is audited)
   for syslog over UDP, TCP and TLS, and for the HTTP NDJSON path (100-event
   batches, what rsyslog omhttp posts; Debian's rsyslog has no omhttp, so the
   HTTP path is driven directly);
2. UDP loss (datagrams sent and not stored) at 1,000/s, 10,000/s and the
   fastest one sender can go;
3. with ``--conservation``: 100,000 TCP messages from 4 connections while the
   classify worker is SIGKILLed and PostgreSQL is stopped for 8 s; every
   message must be audited exactly once.

The figures depend on the machine (the core count is printed); quote medians
of several runs, never one.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg2
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.database import bench_database  # noqa: E402
from ingest.receiver_metrics import udp_rcvbuf_errors  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    """Receivers, ingest and classify workers on the bench database."""

    def __init__(self, url: str, workdir: Path):
        self.url = url
        self.workdir = workdir
        self.procs: list[subprocess.Popen] = []
        self.ports = {k: free_port() for k in ("udp", "tcp", "tls", "health", "http")}
        subprocess.run(
            ["bash", str(ROOT / "scripts/tls_cert.sh"), str(workdir / "tls")], check=True, capture_output=True
        )
        self.env = os.environ | {
            "DATABASE_URL": url,
            "LOG_LEVEL": "WARNING",
            "INGEST_API_KEYS": os.environ.get("INGEST_API_KEYS", "bench-key"),
            "MAX_INGEST_QUEUE_SIZE": "10000000",
            "FOLD_WINDOW_SECONDS": "0",
            "CLASSIFY_LEASE_SECONDS": "5",
        }
        self.key = self.env["INGEST_API_KEYS"].split(",")[0]

    def _start(self, name: str, args: list[str], **extra: str) -> subprocess.Popen:
        log = (self.workdir / f"{name}.log").open("w")
        proc = subprocess.Popen(
            args, cwd=ROOT, env=self.env | extra, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        proc.name = name  # type: ignore[attr-defined]
        self.procs.append(proc)
        return proc

    def start(self) -> None:
        tls = self.workdir / "tls"
        self._start(
            "receivers",
            [sys.executable, "manage.py", "receivers"],
            SYSLOG_UDP_PORT=str(self.ports["udp"]),
            SYSLOG_TCP_PORT=str(self.ports["tcp"]),
            SYSLOG_TLS_PORT=str(self.ports["tls"]),
            SYSLOG_TLS_CERT=str(tls / "server.crt"),
            SYSLOG_TLS_KEY=str(tls / "server.key"),
            RECEIVER_HEALTH_PORT=str(self.ports["health"]),
            SNMP_TRAP_PORT="0",
            MUTT_SERVICE_NAME="receivers",
        )
        self._start(
            "ingest",
            [str(Path(sys.executable).parent / "granian"), "--interface", "wsgi", "ingest.wsgi:application",
             "--host", "127.0.0.1", "--port", str(self.ports["http"]), "--workers", "1", "--blocking-threads", "8",
             "--no-ws"],
            MUTT_SERVICE_NAME="ingest",
        )  # fmt: skip
        self.classify = self.start_classify()
        deadline = time.monotonic() + 180
        for url in (f"http://127.0.0.1:{self.ports['health']}/health", f"http://127.0.0.1:{self.ports['http']}/health"):
            while True:
                try:
                    if requests.get(url, timeout=10).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(f"bench: {url} did not come up (logs in {self.workdir})")
                time.sleep(0.3)

    def start_classify(self) -> subprocess.Popen:
        return self._start(
            f"classify-{len(self.procs)}",
            [sys.executable, "-m", "celery", "-A", "mutt_project", "worker", "-Q", "classify", "-n",
             f"bench-classify-{uuid.uuid4().hex[:6]}@%h", "--concurrency", "3", "--without-gossip", "--without-mingle",
             "--loglevel", "WARNING"],
        )  # fmt: skip

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def count(url: str, sql: str, marker: str) -> int:
    try:
        with psycopg2.connect(url) as conn, conn.cursor() as cursor:
            cursor.execute(sql, [f"{marker}-%"])
            return int(cursor.fetchone()[0])
    except psycopg2.Error:
        return -1


AUDITED = "SELECT count(*) FROM event_audit_log WHERE message LIKE %s"
AUDITED_DISTINCT = "SELECT count(DISTINCT message) FROM event_audit_log WHERE message LIKE %s"
STORED = "SELECT count(*) FROM ingest_batches b, jsonb_array_elements(b.events) e WHERE e->>'message' LIKE %s"


def rewake(stack: Stack) -> None:
    subprocess.run(
        [sys.executable, "-c", "import django,os;os.environ.setdefault('DJANGO_SETTINGS_MODULE','mutt_project.settings');"
         "django.setup();from remediation.sweeper import stale_work_rewake;stale_work_rewake(grace_seconds=0)"],
        cwd=ROOT, env=stack.env, capture_output=True, check=False,
    )  # fmt: skip


def wait_audited(stack: Stack, marker: str, total: int, timeout: float = 1800) -> float:
    deadline = time.monotonic() + timeout
    last_rewake = time.monotonic()
    while (done := count(stack.url, AUDITED, marker)) < total:
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: only {done}/{total} audited for {marker}")
        if time.monotonic() - last_rewake > 10:
            rewake(stack)  # what Beat's sweeper does every minute
            last_rewake = time.monotonic()
        time.sleep(0.2)
    return time.monotonic()


def lines(marker: str, n: int, conn: int) -> list[bytes]:
    return [f"<11>Jan  2 10:00:00 bench-{conn} app: {marker}-{conn}-{i} link down\n".encode() for i in range(n)]


def stream_send(stack: Stack, marker: str, total: int, connections: int, tls: bool, pause=None) -> None:
    def one(n: int) -> None:
        raw = socket.create_connection(("127.0.0.1", stack.ports["tls" if tls else "tcp"]), timeout=600)
        sock: socket.socket = raw
        if tls:
            sock = ssl.create_default_context(cafile=str(stack.workdir / "tls/ca.crt")).wrap_socket(
                raw, server_hostname="localhost"
            )
        data = lines(marker, total // connections, n)
        for start in range(0, len(data), 500):
            if pause is not None and start == len(data) // 2:
                pause.wait()
            sock.sendall(b"".join(data[start : start + 500]))
        if isinstance(sock, ssl.SSLSocket):
            sock = sock.unwrap()  # close_notify, as a syslog sender closing cleanly does
        sock.shutdown(socket.SHUT_WR)
        sock.recv(1)  # until the receiver has read everything and closed its side
        sock.close()

    threads = [threading.Thread(target=one, args=(n,)) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def http_send(stack: Stack, marker: str, total: int, connections: int) -> None:
    import orjson

    url = f"http://127.0.0.1:{stack.ports['http']}/api/v2/ingest"
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    def one(n: int) -> None:
        session = requests.Session()
        per = total // connections
        for start in range(0, per, 100):
            body = b"\n".join(
                orjson.dumps({"timestamp": now, "hostname": f"bench-{n}", "message": f"{marker}-{n}-{i} link down",
                              "syslog_severity": 3})
                for i in range(start, min(start + 100, per))
            )  # fmt: skip
            while True:
                r = session.post(
                    url, data=body, headers={"X-API-Key": stack.key, "Content-Type": "application/x-ndjson"}
                )
                if r.status_code == 202:
                    break
                time.sleep(0.5)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def udp_send(stack: Stack, marker: str, total: int, rate: float | None) -> float:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    target = ("127.0.0.1", stack.ports["udp"])
    started = time.monotonic()
    for i, line in enumerate(lines(marker, total, 0)):
        if rate:
            due = started + i / rate
            while (now := time.monotonic()) < due:
                time.sleep(min(due - now, 0.001))
        sock.sendto(line, target)
    return time.monotonic() - started


def settled(stack: Stack, marker: str, quiet: float = 5.0) -> int:
    """Stored count once it has not grown for ``quiet`` seconds (a loaded receiver stores late, not never)."""
    last, since = -1, time.monotonic()
    while True:
        now = count(stack.url, STORED, marker)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return now
        time.sleep(0.5)


def end_to_end(stack: Stack, transport: str, total: int) -> float:
    marker = f"e2e{transport}{uuid.uuid4().hex[:6]}"
    started = time.monotonic()
    if transport == "udp":
        udp_send(stack, marker, total, 10_000)
    elif transport == "http":
        http_send(stack, marker, total, 4)
    else:
        stream_send(stack, marker, total, 4, transport == "tls")
    stored = total if transport != "udp" else settled(stack, marker)
    finished = wait_audited(stack, marker, stored)
    return stored / (finished - started)


def conservation(stack: Stack, services_dir: str, total: int) -> None:
    marker = f"cons{uuid.uuid4().hex[:6]}"
    pause = threading.Event()
    sender = threading.Thread(target=stream_send, args=(stack, marker, total, 4, False, pause))
    started = time.monotonic()
    sender.start()
    while count(stack.url, AUDITED, marker) < 2000:
        time.sleep(0.2)
    os.killpg(stack.classify.pid, signal.SIGKILL)
    print("  classify worker SIGKILLed")
    subprocess.run(
        ["bash", str(ROOT / "scripts/services.sh"), "stop-pg", services_dir], check=True, capture_output=True
    )
    pause.set()
    print("  PostgreSQL stopped for 8 s while the second halves are written")
    time.sleep(8)
    subprocess.run(["bash", str(ROOT / "scripts/services.sh"), "start", services_dir], check=True, capture_output=True)
    stack.classify = stack.start_classify()
    sender.join()
    finished = wait_audited(stack, marker, total)
    audited, distinct = count(stack.url, AUDITED, marker), count(stack.url, AUDITED_DISTINCT, marker)
    verdict = "every message audited once" if audited == distinct == total else "LOST OR DUPLICATED"
    print(f"  {total} sent, {audited} audit rows, {distinct} distinct: {verdict} ({finished - started:.0f} s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20_000, help="per end-to-end run")
    parser.add_argument("--udp-seconds", type=float, default=5.0, help="length of each UDP loss run")
    parser.add_argument("--conservation", action="store_true")
    parser.add_argument("--only-udp", action="store_true", help="the UDP loss runs alone")
    parser.add_argument("--conservation-messages", type=int, default=100_000)
    parser.add_argument("--services-dir", default=str(ROOT / ".run" / "test"), help="scripts/services.sh data dir")
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        raise SystemExit("bench: source a services.env (DATABASE_URL, REDIS_URL) first")
    url = bench_database("mutt_bench_receivers")
    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("TRUNCATE event_audit_log; DELETE FROM ingest_batches")
    stack = Stack(url, Path(tempfile.mkdtemp(prefix="mutt-bench-receivers-")))
    print(
        f"bench/receivers.py on {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f}); logs in {stack.workdir}"
    )
    try:
        stack.start()
        if args.conservation:
            conservation(stack, args.services_dir, args.conservation_messages)
            return 0
        if not args.only_udp:
            print(f"end to end (sent → audited), {args.messages} messages, 4 senders (UDP: one at 10,000/s):")
        for transport in () if args.only_udp else ("http", "tcp", "tls", "udp"):
            print(f"  {transport:5s} {end_to_end(stack, transport, args.messages):9.0f} messages/s")
        print(f"UDP loss, {args.udp_seconds:.0f} s per rate (stored in the inbox vs sent):")
        for rate in (1_000, 10_000, None):
            marker = f"udp{rate or 'max'}{uuid.uuid4().hex[:6]}"
            total = int((rate or 50_000) * args.udp_seconds)
            kernel = udp_rcvbuf_errors()
            took = udp_send(stack, marker, total, rate)
            stored = settled(stack, marker)
            kernel_drops = (udp_rcvbuf_errors() or 0) - (kernel or 0)
            label = f"{rate}/s" if rate else f"max ({total / took:.0f}/s)"
            lost = total - stored
            print(
                f"  {label:18s} sent {total}, stored {stored}, lost {lost} ({100 * lost / total:.2f} %);"
                f" kernel UdpRcvbufErrors +{kernel_drops} (whole host)"
            )
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
