"""PostgreSQL failover under the front door: a real streaming standby promoted while ingest takes load.

The ingest process (granian + ingest.wsgi, as the Procfile runs it) and a classify
worker use a multi-host ``DATABASE_URL`` (primary, standby; target_session_attrs=
read-write). The primary's postmaster is SIGKILLed: ingest answers 503 with
Retry-After (the standby refuses writes) and says which setting names no writable
host; the standby is promoted: ingest accepts again without a restart, and every
event that had a 202 is audited exactly once on the new primary.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
import requests

from tests.conftest import ROOT, free_port, wait_for
from tests.ha.conftest import schema_copy

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]


class Sender:
    """Posts one event at a time until stopped; remembers each answer."""

    def __init__(self, url: str, api_key: str):
        self.url, self.api_key = url, api_key
        self.answers: list[tuple[int, str | None, str | None]] = []  # status, correlation id, Retry-After
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        session = requests.Session()
        while not self._stop.is_set():
            event = {"timestamp": datetime.now(UTC).isoformat(), "hostname": "core-1", "message": uuid.uuid4().hex}
            try:
                r = session.post(self.url, data=orjson.dumps(event), timeout=15,
                                 headers={"X-API-Key": self.api_key, "Content-Type": "application/json"})  # fmt: skip
            except requests.RequestException:
                self.answers.append((0, None, None))
                continue
            cid = r.json().get("correlation_id") if r.status_code == 202 else None
            self.answers.append((r.status_code, cid, r.headers.get("Retry-After")))
            if r.status_code != 202:
                self._stop.wait(0.2)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def count(self, status: int) -> int:
        return sum(1 for s, _, _ in list(self.answers) if s == status)


def test_ingest_follows_a_promoted_standby_without_losing_an_accepted_event(cluster, workers, api_key, tmp_path):
    schema_copy(cluster)
    primary, standby = cluster.nodes["primary"], cluster.nodes["standby"]
    # The standby has replayed the schema before the primary dies.
    wait_for(lambda: cluster.psql(standby, "SELECT count(*) FROM pg_database WHERE datname = 'mutt'") == "1",
             timeout=60, message="standby replays the copied database")  # fmt: skip
    # Synchronous: the primary's commit (so the 202) waited for the standby's flush.
    assert cluster.psql(primary, "SELECT application_name, sync_state FROM pg_stat_replication") == "standby|sync"
    url = cluster.url("primary", "standby")
    lease = {"CLASSIFY_LEASE_SECONDS": "5"}
    port = free_port()
    env = os.environ | {"DATABASE_URL": url, "MUTT_SERVICE_NAME": "ingest", "LOG_LEVEL": "WARNING"}
    log_path = tmp_path / "ingest.log"
    log = log_path.open("w")
    ingest = subprocess.Popen(
        [str(Path(sys.executable).parent / "granian"), "--interface", "wsgi", "ingest.wsgi:application",
         "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--blocking-threads", "2", "--no-ws"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    sender = Sender(f"http://127.0.0.1:{port}/api/v2/ingest", api_key)
    try:
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return requests.get(base + "/health", timeout=2).status_code == 200
            except (requests.ConnectionError, requests.Timeout):  # a first answer can be slow on a busy machine
                return ingest.poll() is not None

        wait_for(up, timeout=60, message="ingest server up")
        assert ingest.poll() is None, log_path.read_text()
        workers.start("classify", env={"DATABASE_URL": url} | lease)
        sender.start()
        wait_for(lambda: sender.count(202) >= 20, timeout=60, message="events accepted before the fault")

        cluster.kill9(primary)
        wait_for(lambda: sender.count(503) >= 3, timeout=60, message="503 while no primary is writable")
        refused = [a for a in sender.answers if a[0] == 503]
        assert all(retry_after for _, _, retry_after in refused)
        assert "DATABASE_URL: no host accepts a connection with target_session_attrs=read-write" in log_path.read_text()

        accepted_before_promotion = sender.count(202)
        cluster.promote(standby)
        wait_for(lambda: sender.count(202) >= accepted_before_promotion + 20, timeout=60,
                 message="ingest accepts again on the promoted standby")  # fmt: skip
        sender.stop()
    finally:
        sender.stop()
        ingest.terminate()
        ingest.wait(timeout=20)
        log.close()

    statuses = [s for s, _, _ in sender.answers]
    assert set(statuses) <= {202, 503}, statuses  # no 500, no dropped connection
    accepted = [cid for s, cid, _ in sender.answers if s == 202]

    def audited() -> dict[str, int]:
        rows = cluster.psql(standby, "SELECT correlation_id, count(*) FROM event_audit_log GROUP BY 1", db="mutt")
        return {cid: int(n) for cid, n in (line.split("|") for line in rows.splitlines() if line)}

    # Work in flight when the primary died waits for its lease to end (a claim committed on the old
    # primary) or lost its wake-up: the remediation sweeper, which Beat runs every minute, wakes the
    # classifiers again. Here it runs every second and leases are short, so the test is quick.
    sweep = (
        "import time\nfrom remediation.sweeper import stale_work_rewake\n"
        "while True:\n    stale_work_rewake(grace_seconds=0)\n    time.sleep(1)"
    )
    sweeper = subprocess.Popen([sys.executable, "manage.py", "shell", "-c", sweep], cwd=ROOT, env=env | lease,
                               stdout=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while not set(accepted) <= set(counts := audited()) and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        sweeper.terminate()
        sweeper.wait(timeout=20)
    batches = cluster.psql(
        standby, "SELECT status, count(*), sum(event_count) FROM ingest_batches GROUP BY 1", db="mutt"
    )
    missing = set(accepted) - set(counts)
    assert not missing, (len(accepted), len(counts), len(missing), batches, sender.answers)
    assert [cid for cid in accepted if counts[cid] != 1] == []
