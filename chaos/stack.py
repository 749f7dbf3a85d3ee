"""A MUTT stack for chaos runs: PostgreSQL, Redis and every MUTT process as `make run` starts them
(Procfile command lines), on its own ports and data directory, plus an in-process Moogsoft stand-in.

The harness watches the processes and restarts a main process that died (until the
supervisor of `make run` lands, this stands in for it; the results table says so).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import psycopg2
import requests

from forwarding.moog_sink import make_server

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
BIN = ROOT / ".venv" / "bin"


@dataclass
class Ports:
    pg: int = int(os.environ.get("MUTT_CHAOS_PG_PORT", 57132))
    redis: int = int(os.environ.get("MUTT_CHAOS_REDIS_PORT", 57133))
    ingest: int = int(os.environ.get("MUTT_CHAOS_INGEST_PORT", 18131))
    sink: int = int(os.environ.get("MUTT_CHAOS_SINK_PORT", 18132))


def services_env(data: Path) -> dict[str, str]:
    env = {}
    for line in (data / "services.env").read_text().splitlines():
        if line.startswith("export "):
            key, _, value = line[7:].partition("=")
            env[key] = value.strip("'")
    return env


@dataclass
class Proc:
    name: str
    argv: list[str]
    env: dict[str, str]
    popen: subprocess.Popen | None = None
    restarts: int = 0
    supervised: bool = True


@dataclass
class Stack:
    data: Path
    ports: Ports = field(default_factory=Ports)
    procs: dict[str, Proc] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    api_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    sink_url: str = ""
    _watch: threading.Thread | None = None
    _stop_watch: threading.Event = field(default_factory=threading.Event)
    orphans: list[int] = field(default_factory=list)
    pg_on_tmpfs: bool = False
    want_tmpfs: bool = True  # only the disk-full scenario needs it

    # ---- services -----------------------------------------------------------------
    def services_start(self) -> None:
        subprocess.run(
            [
                "bash",
                str(ROOT / "scripts/services.sh"),
                "start",
                str(self.data),
                str(self.ports.pg),
                str(self.ports.redis),
            ],
            check=True,
            capture_output=True,
        )
        self.env.update(services_env(self.data))

    def _pg_tmpfs(self) -> None:
        """PostgreSQL's data on a small tmpfs of its own, so the disk-full scenario can fill it (root only)."""
        pgdata = self.data / "postgres"
        if os.path.ismount(pgdata):
            self.pg_on_tmpfs = True
            return
        if not self.want_tmpfs or os.geteuid() != 0 or (pgdata / "PG_VERSION").exists():
            return
        pgdata.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=768m,mode=0700", "tmpfs", str(pgdata)], capture_output=True
        )
        self.pg_on_tmpfs = done.returncode == 0

    def services(self, action: str) -> None:
        subprocess.run(
            ["bash", str(ROOT / "scripts/services.sh"), action, str(self.data)], check=True, capture_output=True
        )

    def db(self):
        return psycopg2.connect(self.env["DATABASE_URL"], connect_timeout=3)

    def redis_cli(self, *args: str) -> str:
        password = (self.data / "redis_password").read_text().strip()
        out = subprocess.run(
            ["redis-cli", "-p", str(self.ports.redis), "-a", password, "--no-auth-warning", *args],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return out.stdout.strip()

    def redis_pid(self) -> int:
        return int((self.data / "redis" / "redis.pid").read_text().strip())

    # ---- the stack ----------------------------------------------------------------
    def prepare(self) -> None:
        """Services up, schema migrated, sample rules loaded, Moogsoft stand-in listening."""
        self.data.mkdir(parents=True, exist_ok=True)
        (self.data / "logs").mkdir(exist_ok=True)
        self._pg_tmpfs()
        self.services_start()
        self.env.update(
            {
                "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
                "INGEST_API_KEYS": self.api_key,
                "MOOG_WEBHOOK_URL": f"http://127.0.0.1:{self.ports.sink}/",
                "MOOG_TIMEOUT": "3",
                "MOOG_RATE_LIMIT": "500",
                "MOOG_RETRY_MAX_DELAY": "10",
                "MOOG_CIRCUIT_BREAKER_TIMEOUT": "10",
                "CLASSIFY_LEASE_SECONDS": "15",
                "FORWARD_TIME_SLICE_SECONDS": "5",
                "FORWARD_LEASE_MARGIN_SECONDS": "5",
                "SWEEP_GRACE_SECONDS": "10",
                "UNHANDLED_EVENT_THRESHOLD": "1000000000",
                "LOG_LEVEL": "WARNING",
                "PROMETHEUS_MULTIPROC_DIR": str(self.data / "prometheus"),
                "DB_CONNECT_TIMEOUT": "2",
            }
        )
        shutil.rmtree(self.data / "prometheus", ignore_errors=True)
        (self.data / "prometheus").mkdir()
        env = os.environ | self.env
        subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        subprocess.run([PY, "manage.py", "load_sample_data"], cwd=ROOT, env=env, check=True, capture_output=True)
        self.sink = make_server("127.0.0.1", self.ports.sink)
        self.sink.handle_error = lambda *_args: None  # a stalled answer's client went away: expected
        self.sink_state = self.sink.RequestHandlerClass.state
        threading.Thread(target=self.sink.serve_forever, daemon=True).start()
        self.sink_url = f"http://127.0.0.1:{self.ports.sink}/"

    def reset(self) -> None:
        """Empty pipeline tables, Redis and the stand-in between scenarios (processes stopped)."""
        self.services_start()  # a scenario may have left PostgreSQL or Redis down
        with self.db() as conn, conn.cursor() as cur:
            cur.execute("TRUNCATE ingest_batches, event_audit_log, alert_outbox, dead_letters")
        conn.close()
        self.redis_cli("FLUSHALL")
        with self.sink_state.lock:
            self.sink_state.records.clear()
            self.sink_state.mode = {}

    def define(self, extra_env: dict[str, str] | None = None) -> None:
        env = os.environ | self.env | (extra_env or {})
        hook = ["--include", "tests.crash_hook"] if extra_env else []
        celery = [str(BIN / "celery"), "-A", "mutt_project"]

        def worker(queue: str, concurrency: int) -> list[str]:
            return [*celery, "worker", "-Q", queue, "-n", f"chaos-{queue}@%h", "--concurrency", str(concurrency),
                    "--loglevel", "INFO", "--without-gossip", "--without-mingle", *hook]  # fmt: skip

        self.procs = {
            "ingest": Proc(
                "ingest",
                [
                    str(BIN / "granian"),
                    "--interface",
                    "wsgi",
                    "ingest.wsgi:application",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.ports.ingest),
                    "--workers",
                    "1",
                    "--blocking-threads",
                    "8",
                    "--no-ws",
                ],
                env | {"MUTT_SERVICE_NAME": "ingest"},
            ),  # fmt: skip
            "worker-classify": Proc("worker-classify", worker("classify", 2), env),
            "worker-forward": Proc("worker-forward", worker("forward", 2), env),
            "worker-maintenance": Proc("worker-maintenance", worker("maintenance", 1), env),
            "beat": Proc(
                "beat", [*celery, "beat", "--loglevel", "INFO", "--pidfile", str(self.data / "beat.pid")], env
            ),
        }

    def spawn(self, proc: Proc) -> None:
        log = open(self.data / "logs" / f"{proc.name}.log", "a")  # noqa: SIM115 - lives with the process
        proc.popen = subprocess.Popen(
            proc.argv, cwd=ROOT, env=proc.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()

    def start(self, extra_env: dict[str, str] | None = None) -> None:
        self.define(extra_env)
        (self.data / "beat.pid").unlink(missing_ok=True)
        for proc in self.procs.values():
            self.spawn(proc)
        self.wait_ingest()
        self._stop_watch.clear()
        self._watch = threading.Thread(target=self._watch_loop, daemon=True)
        self._watch.start()
        time.sleep(3)  # workers connect to the broker

    def wait_ingest(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{self.ports.ingest}/health", timeout=2).status_code < 600:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError("ingest did not come up")

    def _watch_loop(self) -> None:
        """Restart a dead main process (what the supervisor of `make run` will do)."""
        while not self._stop_watch.wait(1.0):
            for proc in list(self.procs.values()):
                if proc.supervised and proc.popen is not None and proc.popen.poll() is not None:
                    if proc.name == "beat":
                        (self.data / "beat.pid").unlink(missing_ok=True)
                    proc.restarts += 1
                    self.spawn(proc)

    def sink_records(self) -> list[dict]:
        """Every delivery the stand-in recorded (one per event; it stores dicts or (status, JSON text))."""
        with self.sink_state.lock:
            raw = list(self.sink_state.records)
        return [r if isinstance(r, dict) else json.loads(r[1]) for r in raw]

    def pool_children(self, name: str) -> list[int]:
        proc = self.procs[name].popen
        try:
            return [c.pid for c in psutil.Process(proc.pid).children()]
        except psutil.NoSuchProcess:
            return []

    def kill_main(self, name: str) -> None:
        """SIGKILL a main process; its pool children are left to die as orphans would (tracked)."""
        popen = self.procs[name].popen
        children = self.pool_children(name)
        os.kill(popen.pid, signal.SIGKILL)
        self.orphans += children

    def all_running(self) -> bool:
        return all(p.popen is not None and p.popen.poll() is None for p in self.procs.values() if p.supervised)

    def stop(self) -> None:
        self._stop_watch.set()
        if self._watch:
            self._watch.join(timeout=5)
        for proc in self.procs.values():
            if proc.popen and proc.popen.poll() is None:
                try:
                    os.killpg(proc.popen.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in self.procs.values():
            if proc.popen:
                try:
                    proc.popen.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.popen.pid, signal.SIGKILL)
                    proc.popen.wait()
        for pid in self.orphans:  # pool processes of a killed main process, if still alive
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.orphans.clear()

    def shutdown(self) -> None:
        self.stop()
        if getattr(self, "sink", None):
            self.sink.shutdown()
        self.services("stop")
        if self.pg_on_tmpfs:
            subprocess.run(["umount", str(self.data / "postgres")], capture_output=True)


def run_python(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, *args], cwd=ROOT, env=env, check=True)
