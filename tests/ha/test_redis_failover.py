"""Redis master kill -9 under load, with Sentinel: ingest, workers, Beat, the rate limiter and the breaker
all follow the promoted replica without a restart, and conservation holds (every accepted event audited
once, every alert delivered to Moogsoft once)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
import requests

from alerts.models import EventAuditLog
from mutt_project import redis_keys
from tests.alerts.factories import make_rule
from tests.conftest import ROOT, _test_database_url, free_port, wait_for
from tests.ha.redis_sentinel import RedisSentinelGroup

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]


@pytest.fixture
def sentinel_group():
    group = RedisSentinelGroup().start()
    yield group
    group.stop()


class Node:
    """The MUTT processes of one node (ingest, Beat) started with the Sentinel settings; stopped after the test."""

    def __init__(self, env: dict[str, str], log_dir: Path):
        self.env = os.environ | {"DATABASE_URL": _test_database_url(), "LOG_LEVEL": "WARNING"} | env
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen] = []

    def spawn(self, name: str, args: list[str], **env: str) -> subprocess.Popen:
        log = (self.log_dir / f"{name}.log").open("w")
        proc = subprocess.Popen(
            args, cwd=ROOT, env=self.env | env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self.procs.append(proc)
        return proc

    def ingest(self) -> str:
        port = free_port()
        granian = str(Path(sys.executable).parent / "granian")
        args = [granian, "--interface", "wsgi", "ingest.wsgi:application", "--host", "127.0.0.1", "--port", str(port)]
        proc = self.spawn("ingest", [*args, "--workers", "1", "--blocking-threads", "4", "--no-ws"])
        url = f"http://127.0.0.1:{port}"

        def up():
            try:
                return requests.get(url + "/health", timeout=5).status_code == 200
            except requests.RequestException:
                return proc.poll() is not None

        wait_for(up, timeout=60, interval=0.2, message="ingest up")
        assert proc.poll() is None, (self.log_dir / "ingest.log").read_text()[-3000:]
        return url

    def beat(self) -> subprocess.Popen:
        pidfile = self.log_dir / "beat.pid"
        return self.spawn(
            "beat", [sys.executable, "-m", "celery", "-A", "mutt_project", "beat", "--pidfile", str(pidfile)]
        )

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


@pytest.fixture
def node(tmp_path):
    started: list[Node] = []

    def make(env: dict[str, str]) -> Node:
        started.append(Node(env, tmp_path))
        return started[-1]

    yield make
    for n in started:
        n.stop()


class Load:
    """Single events and small batches posted in a loop; remembers every correlation id answered 202."""

    def __init__(self, url: str, api_key: str):
        self.url = url + "/api/v2/ingest"
        self.headers = {"X-API-Key": api_key, "Content-Type": "application/json"}
        self.accepted: list[str] = []
        self.refused = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _event(self, n: int) -> dict:
        return {"timestamp": datetime.now(UTC).isoformat(), "hostname": f"core-{n % 7}", "message": f"ha probe {n}"}

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            n += 1
            body = self._event(n) if n % 5 else [self._event(n * 1000 + i) for i in range(5)]
            try:
                answer = requests.post(self.url, data=orjson.dumps(body), headers=self.headers, timeout=10)
            except requests.RequestException:
                self.refused += 1
                continue
            if answer.status_code == 202:
                reply = answer.json()
                self.accepted += reply.get("correlation_ids") or [reply["correlation_id"]]
            else:
                self.refused += 1
            self._stop.wait(0.1)

    def start(self) -> Load:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def test_master_kill_under_load_loses_nothing_and_every_redis_user_follows_the_new_master(
    sentinel_group, node, workers, moog_sink, api_key
):
    make_rule(match_string="ha probe", match_type="contains")
    env = sentinel_group.env(dead_sentinel_port=free_port()) | {
        "MOOG_RATE_LIMIT": "500",
        "MOOG_CIRCUIT_BREAKER_THRESHOLD": "3",
        "MOOG_CIRCUIT_BREAKER_TIMEOUT": "2",
        "MOOG_RETRY_MAX_DELAY": "2",
        "MOOG_MAX_RETRIES": "50",
        "FORWARD_TIME_SLICE_SECONDS": "5",
        "SWEEP_GRACE_SECONDS": "5",
    }
    this_node = node(env)
    url = this_node.ingest()
    started = [
        workers.start("classify,maintenance", env=env, wait=False),
        workers.start("forward", env=env, wait=False),
    ]
    for proc in started:
        workers.wait_ready(proc, timeout=120)  # a loaded machine starts a worker slowly
    this_node.beat()
    load = Load(url, api_key).start()

    def delivered() -> Counter:
        return Counter(r["body"]["external_id"] for r in moog_sink.received(accepted_only=True))

    try:
        wait_for(lambda: len(delivered()) >= 20, timeout=90, interval=0.3, message="alerts flowing before the kill")
        slot_before = int(sentinel_group.node("master").get(redis_keys.RATE_LIMIT) or 0)
        sentinel_group.kill_master()
        sentinel_group.wait_failover()
        new_master = sentinel_group.node("replica")
        accepted_at_failover = len(load.accepted)
        wait_for(lambda: len(load.accepted) >= accepted_at_failover + 30, timeout=60, message="ingest accepts after")

        # The limiter reserves its slots on the new master.
        wait_for(
            lambda: int(new_master.get(redis_keys.RATE_LIMIT) or 0) > slot_before,
            timeout=60,
            interval=0.3,
            message="rate limiter writing to the new master",
        )
        # The breaker opens on the new master while Moogsoft fails, and closes again.
        moog_sink.control(status=503, for_seconds=3)
        outage_end = time.time() + 3
        wait_for(
            lambda: new_master.get(redis_keys.CB_STATE) == "open",
            timeout=60,
            interval=0.1,
            message="breaker open on the new master",
        )
        wait_for(
            lambda: max(r["at"] for r in moog_sink.received(accepted_only=True)) > outage_end,
            timeout=60,
            interval=0.3,
            message="Moogsoft answering again, the breaker closed",
        )
    finally:
        load.stop()

    accepted = set(load.accepted)
    assert len(accepted) == len(load.accepted)
    wait_for(lambda: set(delivered()) >= accepted, timeout=150, interval=0.5, message="every alert delivered")
    counts = delivered()
    assert [cid for cid in accepted if counts[cid] != 1] == []
    audited = Counter(
        str(c)
        for c in EventAuditLog.objects.filter(correlation_id__in=accepted).values_list("correlation_id", flat=True)
    )
    assert set(audited) == accepted and max(audited.values()) == 1
    assert new_master.get(redis_keys.CB_STATE) in (None, "closed")
    print(
        f"\nredis failover: {len(accepted)} events accepted ({accepted_at_failover} before the kill),"
        f" {load.refused} requests refused, all audited and delivered once"
    )
