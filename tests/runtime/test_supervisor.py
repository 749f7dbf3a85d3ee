"""The supervisor `make run` uses brings a killed process back alone.

The configuration is the one scripts/run.sh writes (scripts/supervisor_conf.py,
from the Procfile), started here on its own ports and run directory with its
own PostgreSQL and Redis, which it supervises too.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest
from celery import Celery

from tests.conftest import free_port, wait_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
WORKERS = ["worker-classify", "worker-forward", "worker-maintenance"]
PROGRAMS = [*WORKERS, "ingest"]
NODES = {f"{name.removeprefix('worker-')}@{socket.gethostname()}" for name in WORKERS}


class Stack:
    def __init__(self, run_dir: Path):
        self.run_dir = run_dir
        self.conf = run_dir / "supervisord.conf"

    def status(self) -> dict[str, tuple[str, int]]:
        """``{program: (state, pid)}``."""
        out = subprocess.run(
            [str(ROOT / ".venv/bin/supervisorctl"), "-c", str(self.conf), "status"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        result = {}
        for line in out.splitlines():
            parts = line.split()
            pid = int(parts[3].rstrip(",")) if len(parts) > 3 and parts[2] == "pid" else 0
            result[parts[0]] = (parts[1], pid)
        return result

    def pid(self, program: str) -> int:
        return self.status()[program][1]

    def all_running(self) -> bool:
        states = self.status()
        return bool(states) and all(state == "RUNNING" for state, _ in states.values())


def _answering(app: Celery) -> set[str]:
    try:
        replies = app.control.ping(timeout=1.0)
    except Exception:  # noqa: BLE001 - Redis may still be coming back
        return set()
    return {node for reply in replies for node in reply}


@pytest.fixture(scope="module")
def stack():
    # PostgreSQL runs as its own user: the directory must be traversable.
    run_dir = Path(tempfile.mkdtemp(prefix="mutt-sup-", dir="/tmp"))
    os.chmod(run_dir, 0o755)
    data = run_dir / "data"
    pg_port, redis_port = free_port(), free_port()
    services = ["bash", str(ROOT / "scripts/services.sh")]
    subprocess.run([*services, "start", str(data), str(pg_port), str(redis_port)], check=True, capture_output=True)
    subprocess.run([*services, "stop", str(data)], check=True, capture_output=True)
    subprocess.run(
        [sys.executable, str(ROOT / "scripts/supervisor_conf.py"), str(run_dir), str(data / "services.env"), *PROGRAMS],
        check=True,
        capture_output=True,
    )
    env_file = (data / "services.env").read_text()
    redis_url = env_file.split("REDIS_URL='", 1)[1].split("'", 1)[0]
    database_url = env_file.split("DATABASE_URL='", 1)[1].split("'", 1)[0]
    env = os.environ | {
        "MUTT_RUN_DIR": str(run_dir),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "MUTT_CLASSIFY_CONCURRENCY": "1",
        "MUTT_FORWARD_CONCURRENCY": "1",
        "MUTT_INGEST_PORT": str(free_port()),
        "MUTT_INGEST_WORKERS": "2",
        "MUTT_INGEST_THREADS": "2",
    }
    supervisord = subprocess.Popen(
        [str(ROOT / ".venv/bin/supervisord"), "-c", str(run_dir / "supervisord.conf")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    # Not the current app: MUTT's shared tasks would follow it, and every later test in this
    # process would send its tasks to this stack's Redis, which is gone after the module.
    app = Celery(broker=redis_url, set_as_current=False)
    s = Stack(run_dir)
    s.app = app
    try:
        wait_for(s.all_running, timeout=60, interval=0.5, message="every supervised process RUNNING")
        wait_for(lambda: _answering(app) >= NODES, timeout=60, interval=0.5, message=f"workers {NODES} answering")
        yield s
    finally:
        supervisord.send_signal(signal.SIGTERM)
        try:
            supervisord.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(supervisord.pid, signal.SIGKILL)
        subprocess.run([*services, "stop", str(data)], check=False, capture_output=True)
        app.close()
        shutil.rmtree(run_dir, ignore_errors=True)


def test_killed_worker_is_back_and_nothing_else_restarts(stack):
    before = stack.status()
    victim = before["worker-classify"][1]
    os.kill(victim, signal.SIGKILL)
    killed = time.monotonic()

    def back() -> bool:
        state, pid = stack.status()["worker-classify"]
        return (
            state == "RUNNING"
            and pid not in (0, victim)
            and f"classify@{socket.gethostname()}" in _answering(stack.app)
        )

    wait_for(back, timeout=60, interval=0.2, message="worker-classify running again and answering a ping")
    print(f"worker-classify answering again {time.monotonic() - killed:.1f}s after SIGKILL")
    after = stack.status()
    assert {k: v for k, v in after.items() if k != "worker-classify"} == {
        k: v for k, v in before.items() if k != "worker-classify"
    }


def test_killed_redis_is_back_with_every_worker(stack):
    wait_for(lambda: _answering(stack.app) >= NODES, timeout=60, interval=0.5, message="workers answering before")
    victim = stack.pid("redis")
    os.kill(victim, signal.SIGKILL)
    killed = time.monotonic()

    def back() -> bool:
        state, pid = stack.status()["redis"]
        return state == "RUNNING" and pid != victim and _answering(stack.app) >= NODES

    wait_for(back, timeout=60, interval=0.5, message="Redis back and every worker answering a ping")
    print(f"Redis and every worker back {time.monotonic() - killed:.1f}s after SIGKILL")
    assert stack.all_running()


def test_killed_server_is_back_and_leaves_no_orphaned_workers(stack):
    before = stack.status()
    victim = before["ingest"][1]
    children = psutil.Process(victim).children(recursive=True)
    assert children, "granian runs worker processes"
    os.kill(victim, signal.SIGKILL)

    def back() -> bool:
        state, pid = stack.status()["ingest"]
        return state == "RUNNING" and pid not in (0, victim)

    wait_for(back, timeout=60, interval=0.2, message="ingest running again")
    # Its old workers do not linger as orphans (holding the port, serving old code).
    wait_for(
        lambda: not any(c.is_running() and c.status() != psutil.STATUS_ZOMBIE for c in children),
        timeout=5,
        message="the killed server's workers gone",
    )
    after = stack.status()
    assert {k: v for k, v in after.items() if k != "ingest"} == {k: v for k, v in before.items() if k != "ingest"}
