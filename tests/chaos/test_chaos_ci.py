"""The CI subset of `make chaos`: classify SIGKILL, Redis kill -9 and a Moogsoft outage, each under a
steady load of single events and NDJSON batches against a whole stack of its own (granian ingest,
real Celery workers and Beat, its own PostgreSQL and Redis). Conservation is asserted, not timing:
the drain bound is generous for a loaded 2-core machine."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from tests.conftest import ROOT, free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]


def test_no_accepted_event_is_lost_or_audited_twice_under_three_faults():
    # Not under pytest's tmp_path: PostgreSQL runs as its own user, which cannot enter it.
    data = tempfile.mkdtemp(prefix="mutt-chaos-ci-")
    os.chmod(data, 0o755)
    env = os.environ | {
        "MUTT_CHAOS_PG_PORT": str(free_port()),
        "MUTT_CHAOS_REDIS_PORT": str(free_port()),
        "MUTT_CHAOS_INGEST_PORT": str(free_port()),
        "MUTT_CHAOS_SINK_PORT": str(free_port()),
    }
    args = ["--scenario", "ci", "--scale", "0.25", "--rate", "40", "--drain-timeout", "240", "--no-docs"]
    done = subprocess.run(
        [sys.executable, "-m", "chaos.run", *args, "--data", data],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    out = done.stdout + done.stderr
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]] for line in done.stdout.splitlines()
            if line.startswith("| ") and not line.startswith(("| scenario", "| ---"))}  # fmt: skip
    assert set(rows) == {"classify_sigkill", "redis_kill", "moog_outage"}, out[-4000:]
    for name, (accepted, lost, duplicated, undelivered, *_rest) in rows.items():
        assert int(accepted) > 300, (name, out[-4000:])
        assert (lost, duplicated, undelivered) == ("0", "0", "0"), (name, out[-4000:])
    assert done.returncode == 0, out[-4000:]
    shutil.rmtree(data, ignore_errors=True)  # kept when the test fails: its logs/ tell why
