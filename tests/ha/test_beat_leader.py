"""Beat on every node: two real Beat processes, one schedules; SIGKILL the leader and the standby takes over
(the stale-work sweep sent within 30 s of the kill), and no periodic entry is ever sent by both at once."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection

from remediation.schedule import BEAT_SCHEDULE
from tests.conftest import ROOT, _test_database_url, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]

SENT = re.compile(r"^\[(?P<at>[\d-]+ [\d:,]+): INFO/MainProcess\] Scheduler: Sending due task (?P<entry>\S+) ")
TAKEOVER = re.compile(r"^\[(?P<at>[\d-]+ [\d:,]+): INFO/MainProcess\] beat: sent the takeover sweep")


def _at(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S,%f").timestamp()  # local time, as Celery logs it


class Beat:
    def __init__(self, name: str, log_dir: Path):
        self.name = name
        self.log = log_dir / f"beat-{name}.log"
        env = os.environ | {
            "DATABASE_URL": _test_database_url(),
            "BEAT_LEADER_POLL_SECONDS": "1",
            "LOG_LEVEL": "INFO",
            "MUTT_SERVICE_NAME": "beat",
        }
        args = [sys.executable, "-m", "celery", "-A", "mutt_project", "beat", "--loglevel", "INFO"]
        args += ["--pidfile", str(log_dir / f"beat-{name}.pid")]
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def text(self) -> str:
        return self.log.read_text()

    def sent(self) -> list[tuple[float, str]]:
        return [(_at(m["at"]), m["entry"]) for line in self.text().splitlines() if (m := SENT.match(line))]

    def takeovers(self) -> list[float]:
        return [_at(m["at"]) for line in self.text().splitlines() if (m := TAKEOVER.match(line))]

    def stop(self, sig=signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@pytest.fixture
def beats(tmp_path):
    started: list[Beat] = []

    def start(name: str) -> Beat:
        started.append(Beat(name, tmp_path))
        return started[-1]

    yield start
    for beat in started:
        beat.stop()


def _beat_sessions() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'mutt-beat %%'"
        )
        return cursor.fetchone()[0]


def test_standby_beat_takes_over_within_30s_of_the_leader_kill_and_no_entry_is_sent_twice(beats, redis_client):
    leader = beats("a")
    wait_for(lambda: leader.takeovers(), timeout=120, interval=0.3, message="the first Beat leads")
    standby = beats("b")
    wait_for(lambda: _beat_sessions() == 2, timeout=120, interval=0.3, message="the second Beat asks for the lease")
    # Both running: only the leader schedules (the heartbeats are due every 10 s).
    wait_for(
        lambda: sum(entry.startswith("heartbeat-") for _, entry in leader.sent()) >= 6,
        timeout=120,
        interval=0.3,
        message="the leader sends two rounds of heartbeats",
    )
    assert standby.sent() == [] and standby.takeovers() == []

    killed_at = time.time()
    leader.stop(signal.SIGKILL)
    takeover = wait_for(lambda: standby.takeovers(), timeout=120, interval=0.2, message="the standby takes over")[0]
    assert takeover - killed_at < 30, f"took over {takeover - killed_at:.1f} s after the kill"
    wait_for(
        lambda: sum(entry.startswith("heartbeat-") for _, entry in standby.sent()) >= 3,
        timeout=120,
        interval=0.3,
        message="the new leader sends heartbeats",
    )

    # The record of runs: every send by either Beat, on the machine's clock.
    sends: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for beat in (leader, standby):
        for at, entry in beat.sent():
            sends[entry].append((at, beat.name))
    assert all(at < killed_at for at, _ in leader.sent())
    assert all(at > killed_at for at, _ in standby.sent())
    for entry, runs in sends.items():
        times = sorted(at for at, _ in runs)
        schedule = BEAT_SCHEDULE[entry]["schedule"]
        if isinstance(schedule, float | timedelta):
            period = schedule if isinstance(schedule, float) else schedule.total_seconds()
            gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
            assert min(gaps, default=period) > period * 0.9, (entry, runs)
        else:  # crontab entries here run at most once a minute
            assert len({int(at // 60) for at in times}) == len(times), (entry, runs)
    print(
        f"\nbeat takeover {takeover - killed_at:.1f} s after SIGKILL; "
        f"{sum(len(r) for r in sends.values())} sends, none twice"
    )
