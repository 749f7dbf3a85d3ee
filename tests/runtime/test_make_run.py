"""`make run` itself (scripts/run.sh) on its own ports and run directory: processes killed one by one, then broken while events flow.

The must-show scenario: while 10,000 events are posted, the classify worker's
pool processes are SIGKILLed, then Redis is SIGKILLed; nobody restarts
anything, and every event ends up classified exactly once (scripts/chaos.py
drives it and checks). Then a second `make run` refuses, `make status` lists
every process, and SIGTERM (what Ctrl-C triggers) stops everything.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import psutil
import pytest

from tests.conftest import free_port, wait_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = {"postgres", "redis", "ingest", "web", "worker-classify", "worker-forward", "worker-maintenance"}
PROCESSES |= {"beat", "flower", "moog-sink", "reaper"}


def _env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line.startswith("export "):
            name, value = line[len("export ") :].split("=", 1)
            values[name] = shlex.split(value)[0] if value else ""
    return values


def _status(run_dir: Path) -> dict[str, str]:
    out = subprocess.run(
        [str(ROOT / ".venv/bin/supervisorctl"), "-c", str(run_dir / "supervisord.conf"), "status"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return {line.split()[0]: line.split()[1] for line in out.splitlines() if line.strip()}


def _pids(run_dir: Path) -> dict[str, int]:
    out = subprocess.run(
        [str(ROOT / ".venv/bin/supervisorctl"), "-c", str(run_dir / "supervisord.conf"), "status"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    parts = [line.split() for line in out.splitlines() if line.strip()]
    return {p[0]: int(p[3].rstrip(",")) if len(p) > 3 and p[2] == "pid" else 0 for p in parts}


def _left_behind(run_dir: Path) -> list[str]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(run_dir) in cmdline and proc.pid != os.getpid():
            found.append(f"{proc.pid} {cmdline[:120]}")
    return found


@pytest.fixture
def make_run():
    run_dir = Path(tempfile.mkdtemp(prefix="mutt-run-", dir="/tmp"))
    os.chmod(run_dir, 0o755)  # PostgreSQL runs as its own user
    ports = {name: str(free_port()) for name in ("PG", "REDIS", "INGEST", "WEB", "FLOWER", "MOOG_SINK")}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "MUTT_"))}
    env |= {"MUTT_RUN_DIR": str(run_dir)} | {f"MUTT_{name}_PORT": port for name, port in ports.items()}
    env.pop("INGEST_API_KEYS", None)
    env.pop("DJANGO_SECRET_KEY", None)
    log = (run_dir / "make-run.out").open("w")
    proc = subprocess.Popen(
        ["bash", "scripts/run.sh"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        wait_for(
            lambda: PROCESSES <= {k for k, v in _status(run_dir).items() if v == "RUNNING"} or proc.poll() is not None,
            timeout=180,
            interval=1,
            message="every process RUNNING under make run",
        )
        assert proc.poll() is None, (run_dir / "make-run.out").read_text()[-3000:]
        yield proc, run_dir, env
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        subprocess.run(["bash", "scripts/services.sh", "stop", str(run_dir / "data")], cwd=ROOT, check=False)
        log.close()
        shutil.rmtree(run_dir, ignore_errors=True)


def test_make_run_survives_pool_and_redis_kills_while_events_flow(make_run):
    proc, run_dir, env = make_run
    stack = env | _env_file(run_dir / "env")

    second = subprocess.run(["bash", "scripts/run.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert second.returncode != 0 and "already running" in second.stderr

    status = subprocess.run(["make", "-s", "status"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert {line.split()[0] for line in status.stdout.splitlines() if "RUNNING" in line} >= PROCESSES

    # kill -9 of any one MUTT process's main pid: supervisord starts it again, every other pid unchanged.
    for name in ("ingest", "web", "worker-classify", "worker-forward", "worker-maintenance", "beat", "flower"):
        before = _pids(run_dir)
        os.kill(before[name], signal.SIGKILL)
        wait_for(
            lambda name=name, before=before: (
                _status(run_dir).get(name) == "RUNNING" and _pids(run_dir)[name] not in (0, before[name])
            ),
            timeout=60,
            interval=0.2,
            message=f"{name} running again",
        )
        after = _pids(run_dir)
        assert {k: v for k, v in after.items() if k != name} == {k: v for k, v in before.items() if k != name}

    chaos = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "scripts/chaos.py", "--events", "10000", "--run-dir", str(run_dir)],
        cwd=ROOT,
        env=stack,
        capture_output=True,
        text=True,
        timeout=900,
    )
    print(chaos.stdout)
    assert chaos.returncode == 0, chaos.stdout + chaos.stderr[-2000:]
    assert "classified: 10000/10000 events, 10000 audit rows" in chaos.stdout

    # What Ctrl-C does: MUTT processes, then PostgreSQL and Redis, all gone.
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) is not None
    wait_for(lambda: not _left_behind(run_dir), timeout=60, message=f"nothing left running: {_left_behind(run_dir)}")
